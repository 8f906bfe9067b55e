import { AuditPage, AuditQuery } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { listAudit } from '../../domain/audit.ts';

/** The audit log, newest first, filterable by app, paginated with `cursor`. */
export function auditRoutes(api: ApiServer, store: Store): void {
  api.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'List audit entries, newest first',
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (request) => listAudit(store.db, request.query),
  );
}
