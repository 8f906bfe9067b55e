import type { Command } from 'commander';
import type { AuditEntry, AuditQuery } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type AuditOptions = ClientOptions & { app?: string; limit?: string; cursor?: string };

const auditColumns: Column<AuditEntry>[] = [
  { header: 'time', value: (entry) => formatTime(entry.at) },
  { header: 'actor', value: (entry) => entry.actor },
  { header: 'action', value: (entry) => entry.action },
  { header: 'target', value: (entry) => entry.target },
  { header: 'request id', value: (entry) => entry.requestId },
];

/** `pave audit`: who changed what, newest first, one page at a time. */
export function registerAuditCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('audit')
      .description('Show the audit log, newest first: who did what to which object')
      .option('--app <app>', 'only entries about this application')
      .option('--limit <n>', 'entries per page (the server caps it)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave audit', 'pave audit --app shop --limit 20', 'pave audit --cursor 1042'),
    )
    .action(async (options: AuditOptions) => {
      const query = auditQuery(options);
      const { client, output } = await clientFor(options, io);
      output.show(await client.listAudit(query), (page) => {
        const table = output.table(page.items, auditColumns, 'No audit entries yet.');
        if (page.nextCursor === null) return table;
        return `${table}\n\nMore entries: ${nextPageCommand(options, page.nextCursor)}`;
      });
    });
}

function auditQuery(options: AuditOptions): AuditQuery {
  const query: AuditQuery = {};
  if (options.app !== undefined) query.app = options.app;
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!/^[0-9]+$/.test(options.limit.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
      throw new CliUsageError(
        `--limit: "${options.limit}" is not a number of entries; use a whole number from 1`,
      );
    }
    query.limit = limit;
  }
  if (options.cursor !== undefined) query.cursor = options.cursor;
  return query;
}

function nextPageCommand(options: AuditOptions, cursor: string): string {
  const parts = ['pave audit'];
  if (options.app !== undefined) parts.push(`--app ${options.app}`);
  if (options.limit !== undefined) parts.push(`--limit ${options.limit.trim()}`);
  parts.push(`--cursor ${cursor}`);
  return parts.join(' ');
}
