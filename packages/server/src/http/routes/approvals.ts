import {
  ApprovalListQuery,
  ApprovalPage,
  ApprovalParams,
  Approval,
  ApproveBody,
  DeploymentDetail,
  RejectBody,
} from '@pave/core';
import type { FastifyRequest } from 'fastify';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import {
  approvalAccess,
  approveDeployment,
  getApproval,
  listApprovals,
  rejectDeployment,
} from '../../domain/deployments/approvals.ts';

/**
 * Four-eyes approvals of deployments into environments whose type requires them: list those awaiting
 * approval, approve (the deployment is queued and runs) or reject one. The id is the deployment's. Deciding
 * needs deployment.approve on the deployment's environment type, checked per deployment (`access`); the
 * requester may never decide their own, and a deployment of an app the caller cannot see answers 404.
 */
export function approvalRoutes(
  api: ApiServer,
  options: { store: Store; onQueued?: (() => void) | undefined },
): void {
  const { store } = options;
  const tags = ['approvals'];
  const byId = async (request: FastifyRequest) =>
    approvalAccess(store.db, request.pave.actor, String((request.params as { id?: unknown }).id));

  api.get(
    '/approvals',
    {
      config: {
        // Everyone may ask; they see the pending deployments of the apps whose deployments they may read.
        permission: 'app.list',
        access: async (request) => {
          const app = (request.query as { app?: unknown }).app;
          return typeof app === 'string' ? [{ permission: 'deployment.read', target: { app } }] : [];
        },
      },
      schema: {
        tags,
        summary: 'List the deployments awaiting approval, newest first, with what each would change',
        description:
          'Pages with cursors, 50 approvals a page unless `limit` says (at most 500); give the answer’s ' +
          '`nextCursor` as `cursor` for the next (older) page. Only the apps whose deployments the caller ' +
          'may read (deployment.read) are listed.',
        querystring: ApprovalListQuery,
        response: { 200: ApprovalPage },
      },
    },
    async (request) => {
      const { app, limit, cursor } = request.query;
      return listApprovals(store.db, request.pave.actor, { app }, { limit, cursor });
    },
  );

  api.get(
    '/approvals/:id',
    {
      // Whether the caller may read the deployment's app is decided with the deployment (404 otherwise).
      config: { permission: 'app.list' },
      schema: {
        tags,
        summary: 'One deployment awaiting approval, with what it would change',
        description:
          'Needs deployment.read on its app; 404 when there is no such deployment, the caller may not read ' +
          'it, or it no longer awaits approval.',
        params: ApprovalParams,
        response: { 200: Approval },
      },
    },
    async (request) => getApproval(store.db, request.pave.actor, request.params.id),
  );

  api.post(
    '/approvals/:id/approve',
    {
      config: { permission: 'deployment.approve', access: byId },
      schema: {
        tags,
        summary: 'Approve a deployment awaiting approval: it is queued and runs',
        description:
          'Needs deployment.approve on its environment type (approver there, or admin); never its requesters: ' +
          'who asked for it (for a deployment a rule queued, the rule’s creator) and who pushed the artifacts ' +
          'whose code it brings (its own, and those behind the workloads a promotion, rollback, redeploy or ' +
          'clone changes). Its requesters must still be allowed to deploy there. 409 when it is not awaiting ' +
          'approval.',
        params: ApprovalParams,
        body: ApproveBody.nullish(),
        response: { 200: DeploymentDetail },
      },
    },
    async (request) => {
      const detail = await approveDeployment(store, request.pave, request.params.id, request.body ?? {});
      options.onQueued?.();
      return detail;
    },
  );

  api.post(
    '/approvals/:id/reject',
    {
      config: { permission: 'deployment.approve', access: byId },
      schema: {
        tags,
        summary: 'Reject a deployment awaiting approval, saying why: it never runs',
        params: ApprovalParams,
        body: RejectBody,
        response: { 200: DeploymentDetail },
      },
    },
    async (request) => rejectDeployment(store, request.pave, request.params.id, request.body),
  );
}
