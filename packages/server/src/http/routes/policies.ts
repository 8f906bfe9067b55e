import {
  ApplyPoliciesBody,
  PoliciesPlan,
  PolicyListQuery,
  PolicyPage,
  PolicyParams,
  PolicyRecord,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { applyPolicies, deletePolicy, getPolicy, listPolicyPage } from '../../domain/policies.ts';

/** Policies as code: rules, promotion gates and freezes every deployment is checked against. */
export function policyRoutes(api: ApiServer, store: Store): void {
  const tags = ['policies'];
  api.post(
    '/policies/apply',
    {
      config: { permission: 'policy.write' },
      schema: {
        tags,
        summary: 'Apply policies declaratively (create or update; dryRun only plans)',
        body: ApplyPoliciesBody,
        response: { 200: PoliciesPlan },
      },
    },
    async (request) => applyPolicies(store, request.pave, request.body),
  );
  api.get(
    '/policies',
    {
      config: { permission: 'policy.read' },
      schema: {
        tags,
        summary: 'List policies, ordered by id, a page at a time (100 unless `limit` says)',
        querystring: PolicyListQuery,
        response: { 200: PolicyPage },
      },
    },
    async (request) => listPolicyPage(store.db, request.query),
  );
  api.get(
    '/policies/:id',
    {
      config: { permission: 'policy.read' },
      schema: { tags, summary: 'Get a policy', params: PolicyParams, response: { 200: PolicyRecord } },
    },
    async (request) => getPolicy(store.db, request.params.id),
  );
  api.delete(
    '/policies/:id',
    {
      config: { permission: 'policy.write' },
      schema: {
        tags,
        summary: 'Delete a policy',
        params: PolicyParams,
        response: { 204: noContent('The policy is deleted') },
      },
    },
    async (request, reply) => {
      await deletePolicy(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
