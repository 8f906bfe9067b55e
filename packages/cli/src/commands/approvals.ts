import type { Command } from 'commander';
import type { Approval, DeploymentDetail } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { renderSetDiff } from './diff.ts';
import { emptyPageLine, pageQuery } from './paging.ts';

const approvalColumns: Column<Approval>[] = [
  { header: 'id', value: (approval) => approval.id },
  { header: 'app/env', value: (approval) => `${approval.deployment.appId}/${approval.deployment.envId}` },
  { header: 'kind', value: (approval) => approval.deployment.kind },
  { header: 'requested by', value: (approval) => approval.requestedBy },
  { header: 'when', value: (approval) => formatTime(approval.requestedAt) },
  { header: 'expires', value: (approval) => formatTime(approval.expiresAt) },
  { header: 'changes', value: (approval) => approval.summary },
];

function deploymentId(id: string): string {
  if (!/^\d+$/.test(id)) {
    throw new CliUsageError(`ID: "${id}" is not a deployment id; \`pave approvals list\` shows them`);
  }
  return id;
}

/**
 * `pave approvals list|approve|reject`: four-eyes approvals of deployments into environment types that require
 * them (`pave env-types update TYPE --requires-approval`).
 */
export function registerApprovalsCommands(program: Command, io: CliIo): void {
  const approvals = program
    .command('approvals')
    .summary('List, approve and reject deployments awaiting approval')
    .description(
      'Deployments, rollbacks and promotions into an environment whose type requires approval wait until ' +
        'someone else approves them: an admin, or a holder of the approver role on the type ' +
        '(`pave roles grant approver --user USER --env-type TYPE`). The requester never decides their own. ' +
        'The id is the deployment id.',
    )
    .addHelpText(
      'after',
      examples(
        'pave approvals list --app shop',
        'pave approvals get 42',
        'pave approvals approve 42 --comment "checked the diff"',
        'pave approvals reject 42 --comment "wait for the freeze to end"',
      ),
    );

  addClientOptions(
    approvals
      .command('list')
      .description(
        'List the deployments awaiting approval you may see, newest first, with what they change, a page at a time',
      )
      .option('--app <app>', "only this app's (default: every app you may read)")
      .option('--limit <n>', 'at most this many (50 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave approvals list',
        'pave approvals list --app shop -o json',
        'pave approvals list --limit 20 --cursor 120',
      ),
    )
    .action(async (options: ClientOptions & { app?: string; limit?: string; cursor?: string }) => {
      const query = {
        ...(options.app === undefined ? {} : { app: options.app }),
        ...pageQuery(options, 'approvals'),
      };
      const { client, output } = await clientFor(options, io);
      output.show(await client.listApprovals(query), (page) => {
        const none = emptyPageLine('No deployments await approval.', options.cursor, 'approvals');
        const table = output.table(page.items, approvalColumns, none);
        // A server from before paging answers no nextCursor: one page, nothing more to fetch.
        if (!page.nextCursor) return table;
        const next = [
          'pave approvals list',
          ...(options.app === undefined ? [] : [`--app ${options.app}`]),
          ...(options.limit === undefined ? [] : [`--limit ${options.limit.trim()}`]),
          `--cursor ${page.nextCursor}`,
        ];
        return `${table}\n\nMore approvals: ${next.join(' ')}`;
      });
    });

  addClientOptions(
    approvals
      .command('get')
      .description(
        'Show a deployment awaiting approval: who asked, when it expires, and what it would change',
      )
      .argument('<id>', 'the deployment id (see `pave approvals list`)'),
  )
    .addHelpText('after', examples('pave approvals get 42', 'pave approvals get 42 -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getApproval(deploymentId(id)), (approval) => {
        const { deployment } = approval;
        const others = approval.requesters.filter((name) => name !== approval.requestedBy);
        return [
          `Deployment ${approval.id} (${deployment.kind}) of ${where(deployment)} awaits approval` +
            (deployment.message ? `: ${deployment.message}` : ''),
          `  environment type  ${approval.envType}`,
          `  requested by      ${approval.requestedBy}, ${formatTime(approval.requestedAt)}` +
            (others.length ? ` (may not decide it either: ${others.join(', ')})` : ''),
          `  expires           ${formatTime(approval.expiresAt)}`,
          `  changes           ${approval.summary}`,
          ...(approval.runningValuesVersion === undefined
            ? []
            : [
                `  values            ${valuesVersions(approval.deployment.valuesVersion, approval.runningValuesVersion)}`,
              ]),
          '',
          renderSetDiff(approval.diff, colors),
        ].join('\n');
      });
    });

  addClientOptions(
    approvals
      .command('approve')
      .description('Approve a deployment awaiting approval: it is queued and runs')
      .argument('<id>', 'the deployment id (see `pave approvals list`)')
      .option('--comment <text>', 'why, for the record'),
  )
    .addHelpText('after', examples('pave approvals approve 42', 'pave approvals approve 42 --comment "LGTM"'))
    .action(async (id: string, options: ClientOptions & { comment?: string }) => {
      const { client, output } = await clientFor(options, io);
      const detail = await client.approveDeployment(
        deploymentId(id),
        options.comment !== undefined ? { comment: options.comment } : {},
      );
      output.show(detail, (body) => `Approved deployment ${body.id} of ${where(body)}: it is ${body.status}`);
    });

  addClientOptions(
    approvals
      .command('reject')
      .description('Reject a deployment awaiting approval, saying why: it never runs')
      .argument('<id>', 'the deployment id (see `pave approvals list`)')
      .option('--comment <text>', 'why it is rejected (required; the requester sees it)'),
  )
    .addHelpText('after', examples('pave approvals reject 42 --comment "not during the sale"'))
    .action(async (id: string, options: ClientOptions & { comment?: string }) => {
      if (options.comment === undefined || options.comment.trim() === '') {
        throw new CliUsageError('say why with --comment "..."; the requester sees it');
      }
      const { client, output } = await clientFor(options, io);
      const detail = await client.rejectDeployment(deploymentId(id), { comment: options.comment });
      output.show(detail, (body) => `Rejected deployment ${body.id} of ${where(body)}: it will not run`);
    });
}

/**
 * The values version a deployment awaiting approval will run with (pinned when it was asked for) and the one
 * that runs now: `version 4, pinned (now: version 1)`.
 */
function valuesVersions(pinned: number | null, running: number | null): string {
  const version = (number: number | null) => (number === null ? 'no values' : `version ${number}`);
  // None running: nothing deployed there yet (or only before it had values), not an environment without values.
  const now =
    running === null
      ? 'nothing runs with values yet'
      : pinned === running
        ? 'as now'
        : `now: ${version(running)}`;
  return `${version(pinned)}, pinned (${now})`;
}

function where(deployment: Pick<DeploymentDetail, 'appId' | 'envId'>): string {
  return `${deployment.appId}/${deployment.envId}`;
}
