import type { AuditEntry, AuditPage, AuditQuery } from '@pave/core';
import type { Executor } from '../store/index.ts';
import { now, type RequestContext } from './context.ts';

/** What a mutation records in the audit log. `summary` describes the change and never holds a secret. */
export interface AuditRecord {
  action: string;
  target: string;
  appId?: string | null;
  summary: Record<string, unknown>;
}

/**
 * Appends one entry to the audit log. Call it with the transaction that makes the change, so the entry
 * exists exactly when the change does.
 */
export async function recordAudit(tx: Executor, context: RequestContext, record: AuditRecord): Promise<void> {
  await tx
    .insertInto('audit_entries')
    .values({
      at: now(),
      actor: context.actor.username,
      action: record.action,
      target: record.target,
      app_id: record.appId ?? null,
      request_id: context.requestId,
      summary: JSON.stringify(record.summary),
    })
    .execute();
}

const DEFAULT_PAGE_SIZE = 50;

/** Lists audit entries newest first, optionally for one app, one page at a time (cursor = last id seen). */
export async function listAudit(db: Executor, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let select = db
    .selectFrom('audit_entries')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (query.app) select = select.where('app_id', '=', query.app);
  if (query.cursor) select = select.where('id', '<', Number(query.cursor));
  const rows = await select.execute();
  const page = rows.slice(0, limit);
  const items: AuditEntry[] = page.map((row) => ({
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    appId: row.app_id,
    requestId: row.request_id,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
