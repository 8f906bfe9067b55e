import { AuditPage, AuditQuery, AuditVerification } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { listAudit, verifyAuditChain } from '../../domain/audit.ts';

/**
 * The audit log, newest first, filterable by app, paginated with `cursor`; and the check of its hash chain,
 * which answers 200 whether or not the chain is intact (`ok` tells).
 */
export function auditRoutes(api: ApiServer, store: Store): void {
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
    async (request) => listAudit(store.db, request.query),
  );
  api.get(
    '/audit/verify',
    {
      config: { permission: 'audit.read-all' },
      schema: {
        tags: ['audit'],
        summary: 'Verify the hash chain of the audit log',
        description:
          'Walks every entry in order and recomputes its hash. `ok: false` means the store was changed ' +
          'outside Pave; `firstProblem` names the first entry where the chain breaks.',
        response: { 200: AuditVerification },
      },
    },
    async () => verifyAuditChain(store.db),
  );
}
