import type { FastifyError, FastifyRequest } from 'fastify';
import { AuditHead, AuditPage, AuditQuery, AuditVerification, AuditVerifyQuery } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { authorize } from '../../domain/access.ts';
import {
  listAudit,
  parsePublishedHead,
  readAuditHead,
  requireAppWithEntries,
  verifyAuditChain,
} from '../../domain/audit.ts';
import { refusalsFor } from '../../domain/audit-refusals.ts';

/**
 * The audit log, newest first, filterable by app (its current incarnation, or all of them for those who
 * may read the whole log; 404 for an app that neither exists nor has entries), paginated with `cursor`; the
 * head of its hash chain, to publish elsewhere; and the check of the chain (optionally against a published
 * head), which answers 200 whether or not the chain is intact (`ok` tells).
 *
 * It also records every request of `api` refused for want of a permission (403) in the log, counted per
 * actor, permission and target over a minute (see RefusalRecorder), and writes what is counted when the
 * server closes.
 */
export function auditRoutes(api: ApiServer, store: Store): void {
  const refusals = refusalsFor(store);
  refusals.reportWriteErrorsTo((error, count) =>
    api.log.error({ err: error, refusals: count }, 'could not record refused requests in the audit log'),
  );
  api.addHook('onError', async (request, _reply, error) => noteRefusal(store, request, error));
  api.addHook('onClose', async () => refusals.flush());

  api.get(
    '/audit',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: 'List audit entries, newest first',
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (request) => {
      // Earlier apps with the same id are not the current owners' business.
      if (request.query.app && request.query.incarnation === 'all') {
        authorize(request.pave.actor, 'audit.read-all');
      }
      if (request.query.app) await requireAppWithEntries(store.db, request.query.app);
      return listAudit(store.db, request.query);
    },
  );
  api.get(
    '/audit/head',
    {
      config: { permission: 'audit.read-all' },
      schema: {
        tags: ['audit'],
        summary: 'The head of the audit hash chain, to publish outside Pave',
        description:
          'The newest position and hash (`head`: SEQ:HASH). Publish it somewhere the store cannot reach; ' +
          '`GET /audit/verify?head=SEQ:HASH` later proves that nothing up to it was changed.',
        response: { 200: AuditHead },
      },
    },
    async () => readAuditHead(store.db),
  );
  api.get(
    '/audit/verify',
    {
      config: { permission: 'audit.read-all' },
      schema: {
        tags: ['audit'],
        summary: 'Verify the hash chain of the audit log',
        description:
          'Walks every entry in order and recomputes its hash (keyed with the audit key from `keyedFrom` ' +
          'on). `ok: false` means the store was changed outside Pave; `firstProblem` names the first entry ' +
          'where the chain breaks. With `head`, the entry at that position must still have that hash.',
        querystring: AuditVerifyQuery,
        response: { 200: AuditVerification },
      },
    },
    async (request) =>
      verifyAuditChain(
        store.db,
        request.query.head ? { publishedHead: parsePublishedHead(request.query.head) } : {},
      ),
  );
}

/** Counts a request refused for want of a permission; the authoriser says which one in `errors`. */
function noteRefusal(store: Store, request: FastifyRequest, error: FastifyError): void {
  if (error.name !== 'NotAllowedError' || !request.pave) return;
  const problems = (error as { errors?: Array<{ path: string; message: string }> }).errors ?? [];
  const named = problems.find((problem) => problem.path === 'permission')?.message;
  const permission = named?.split(':')[0] ?? request.routeOptions.config.permission ?? 'unknown';
  refusalsFor(store).accessDenied({
    actor: request.pave.actor,
    permission,
    reason: error.message,
    target: request.url.split('?')[0]!.replace(/^\/api\/v1\//, ''),
    appId: request.accessTarget?.app ?? null,
    method: request.method,
    requestId: String(request.id),
  });
}
