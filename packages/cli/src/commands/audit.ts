import { Argument } from 'commander';
import type { Command } from 'commander';
import type { AuditEntry, AuditQuery, AuditVerification } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type AuditOptions = ClientOptions & { app?: string; limit?: string; cursor?: string };

/** The audit log's hash chain is broken: the store was changed outside Pave. Exit code 1. */
export class AuditLogBrokenError extends Error {
  override name = 'AuditLogBrokenError';
}

const auditColumns: Column<AuditEntry>[] = [
  { header: 'time', value: (entry) => formatTime(entry.at) },
  { header: 'actor', value: (entry) => entry.actor },
  { header: 'action', value: (entry) => entry.action },
  { header: 'target', value: (entry) => entry.target },
  { header: 'request id', value: (entry) => entry.requestId },
];

/**
 * `pave audit`: who changed what, newest first, one page at a time. `pave audit verify` instead walks the
 * log's hash chain and exits 1 (AuditLogBrokenError) when an entry was changed, deleted or added outside Pave.
 * (`verify` is an optional argument rather than a subcommand, so that `pave audit`'s own options keep working
 * wherever they are placed.)
 */
export function registerAuditCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('audit')
      .description(
        'Show the audit log, newest first: who did what to which object; `pave audit verify` checks that it is intact',
      )
      .addArgument(
        new Argument(
          '[verify]',
          'verify the hash chain of the whole log instead: every entry unchanged, none deleted or added outside Pave',
        ).choices(['verify']),
      )
      .option('--app <app>', 'only entries about this application')
      .option('--limit <n>', 'entries per page (the server caps it)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave audit',
        'pave audit --app shop --limit 20',
        'pave audit --cursor 1042',
        'pave audit verify',
      ),
    )
    .action(async (verb: 'verify' | undefined, options: AuditOptions) => {
      if (verb === 'verify') {
        await verifyAudit(options, io);
        return;
      }
      const query = auditQuery(options);
      const { client, output } = await clientFor(options, io);
      output.show(await client.listAudit(query), (page) => {
        const table = output.table(page.items, auditColumns, 'No audit entries yet.');
        if (page.nextCursor === null) return table;
        return `${table}\n\nMore entries: ${nextPageCommand(options, page.nextCursor)}`;
      });
    });
}

async function verifyAudit(options: AuditOptions, io: CliIo): Promise<void> {
  const listing = (['app', 'limit', 'cursor'] as const).filter((name) => options[name] !== undefined);
  if (listing.length > 0) {
    throw new CliUsageError(
      `${listing.map((name) => `--${name}`).join(', ')}: only for listing entries; ` +
        '`pave audit verify` always checks the whole log',
    );
  }
  const { client, output } = await clientFor(options, io);
  const result = await client.verifyAudit();
  // A broken log is told on stderr (AuditLogBrokenError); with -o json the report also goes to stdout.
  if (result.ok || output.format === 'json') {
    output.show(result, (body) => `Audit log intact: ${entryCount(body.entries)}, chain verified`);
  }
  if (!result.ok) throw new AuditLogBrokenError(brokenMessage(result));
}

function brokenMessage(result: AuditVerification): string {
  const problem = result.firstProblem;
  if (!problem) return 'Audit log BROKEN (the server gave no detail)';
  const where = problem.seq > 0 ? `entry #${problem.seq}` : 'an entry outside the chain';
  const id = problem.id === null ? 'missing' : `id ${problem.id}`;
  return `Audit log BROKEN at ${where} (${id}): ${problem.message}`;
}

function entryCount(count: number): string {
  return `${count} ${count === 1 ? 'entry' : 'entries'}`;
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
