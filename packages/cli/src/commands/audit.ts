import { Argument } from 'commander';
import type { Command } from 'commander';
import type { AuditEntry, AuditHead, AuditQuery, AuditVerification } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, parseLimit } from './paging.ts';

type AuditOptions = ClientOptions & {
  app?: string;
  limit?: string;
  cursor?: string;
  allIncarnations?: boolean;
  head?: string;
};

/** The options that only listing entries takes, as they are spelled on the command line. */
const LISTING_OPTIONS = {
  app: '--app',
  limit: '--limit',
  cursor: '--cursor',
  allIncarnations: '--all-incarnations',
} as const;

const PUBLISHED_HEAD = /^\d{1,15}:[0-9a-f]{64}$/;

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
 * log's hash chain and exits 1 (AuditLogBrokenError) when an entry was changed, deleted or added outside Pave;
 * with `--head SEQ:HASH` it also checks a head printed earlier by `pave audit head`, which is what to publish
 * outside Pave. (`verify` and `head` are an optional argument rather than subcommands, so that `pave audit`'s
 * own options keep working wherever they are placed.)
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
          '[verify|head]',
          'verify: check the hash chain of the whole log instead (every entry unchanged, none deleted or added ' +
            'outside Pave); head: print the head of the chain (SEQ:HASH), to publish outside Pave',
        ).choices(['verify', 'head']),
      )
      .option('--app <app>', 'only entries about this application (as it exists now)')
      .option(
        '--all-incarnations',
        'with --app: also entries of earlier apps with the same id, deleted since (needs audit.read-all)',
      )
      .option(
        '--head <SEQ:HASH>',
        'with verify: a head printed earlier by `pave audit head`; the log must still contain it unchanged',
      )
      .option('--limit <n>', 'entries per page (1 to 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave audit',
        'pave audit --app shop --limit 20',
        'pave audit --cursor 1042',
        'pave audit verify',
        'pave audit head                       # publish its output outside Pave',
        'pave audit verify --head 42:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      ),
    )
    .action(async (verb: 'verify' | 'head' | undefined, options: AuditOptions) => {
      if (verb !== undefined) refuseListingOptions(verb, options);
      if (verb === 'verify') {
        await verifyAudit(options, io);
        return;
      }
      if (options.head !== undefined) {
        throw new CliUsageError(
          '--head: only for `pave audit verify`, e.g. `pave audit verify --head SEQ:HASH`',
        );
      }
      if (verb === 'head') {
        const { client, output } = await clientFor(options, io);
        const head = await client.getAuditHead();
        // stdout holds the head alone, so that `H=$(pave audit head)` is it; what to do with it goes to stderr.
        output.show(head, (shown) => shown.head);
        if (!output.forScripts) io.stderr.write(`${describeHead(head)}\n`);
        return;
      }
      const query = auditQuery(options);
      const { client, output } = await clientFor(options, io);
      output.show(await client.listAudit(query), (page) => {
        const none = emptyPageLine('No audit entries yet.', options.cursor, 'audit entries');
        const table = output.table(page.items, auditColumns, none);
        if (page.nextCursor === null) return table;
        return `${table}\n\nMore entries: ${nextPageCommand(options, page.nextCursor)}`;
      });
    });
}

function refuseListingOptions(verb: 'verify' | 'head', options: AuditOptions): void {
  const listing = (Object.keys(LISTING_OPTIONS) as Array<keyof typeof LISTING_OPTIONS>).filter(
    (name) => options[name] !== undefined,
  );
  if (listing.length > 0) {
    throw new CliUsageError(
      `${listing.map((name) => LISTING_OPTIONS[name]).join(', ')}: only for listing entries; ` +
        (verb === 'verify'
          ? '`pave audit verify` always checks the whole log'
          : '`pave audit head` prints the head of the whole log'),
    );
  }
}

async function verifyAudit(options: AuditOptions, io: CliIo): Promise<void> {
  const head = options.head?.trim();
  if (head !== undefined && !PUBLISHED_HEAD.test(head)) {
    throw new CliUsageError(
      `--head: "${options.head}" is not a head of the audit log; give SEQ:HASH as \`pave audit head\` ` +
        'printed it (a number, a colon and 64 lowercase hex digits)',
    );
  }
  const { client, output } = await clientFor(options, io);
  const result = await client.verifyAudit(head === undefined ? {} : { head });
  // A broken log is told on stderr (AuditLogBrokenError); with -o json or yaml the report also goes to stdout.
  if (result.ok || output.forScripts) output.show(result, describeIntact);
  if (!result.ok) throw new AuditLogBrokenError(brokenMessage(result));
}

function describeIntact(result: AuditVerification): string {
  const keyed =
    result.keyedFrom === null
      ? ' (not keyed yet)'
      : result.keyedFrom > 1
        ? ` (keyed from entry #${result.keyedFrom}; the entries before it are checked with the unkeyed hash)`
        : '';
  const published =
    result.publishedHead === null ? '' : `; it still holds the published head #${result.publishedHead}`;
  return `Audit log intact: ${entryCount(result.entries)}, chain verified${keyed}${published}`;
}

function describeHead(head: AuditHead): string {
  return (
    `The head of the audit log (entry #${head.seq}). Publish it outside Pave; ` +
    `\`pave audit verify --head ${head.head}\` later proves that nothing up to it was changed.`
  );
}

function brokenMessage(result: AuditVerification): string {
  const problem = result.firstProblem;
  if (!problem) return 'Audit log BROKEN (the server gave no detail)';
  if (problem.problem === 'key-mismatch') return `Audit log BROKEN: ${problem.message}`;
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
  if (options.allIncarnations) {
    if (options.app === undefined) {
      throw new CliUsageError(
        '--all-incarnations: only with --app; without it `pave audit` lists the whole log, every app included',
      );
    }
    query.incarnation = 'all';
  }
  if (options.limit !== undefined) query.limit = parseLimit(options.limit, 'entries');
  if (options.cursor !== undefined) query.cursor = options.cursor;
  return query;
}

function nextPageCommand(options: AuditOptions, cursor: string): string {
  const parts = ['pave audit'];
  if (options.app !== undefined) parts.push(`--app ${options.app}`);
  if (options.allIncarnations) parts.push('--all-incarnations');
  if (options.limit !== undefined) parts.push(`--limit ${options.limit.trim()}`);
  parts.push(`--cursor ${cursor}`);
  return parts.join(' ');
}
