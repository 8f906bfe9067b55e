import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import type {
  Deployment,
  DeploymentDetail,
  PatchValuesBody,
  PaveClient,
  ValueChange,
  ValueEntry,
  ValueList,
  ValueKeyDiff,
  ValuesChanged,
  ValuesDiff,
  ValuesVersion,
} from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields } from '../field-origins.ts';
import { describeFileError } from '../file-errors.ts';
import { readFileArgument } from '../file-arguments.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { dataText } from '../output/output.ts';
import type { CommandOutput } from '../output/output.ts';
import { formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';
import {
  addWaitOptions,
  addWaitTimeoutOption,
  checkWaitTimeout,
  giveUpAfterMs,
  progressOn,
  queuedLine,
  reportQueuedDeployment,
  timeoutSecondsOf,
  waitForDeployment,
  waitTimeoutMsOf,
} from './progress.ts';
import type { WaitOptions } from './progress.ts';

type ValuesOptions = ClientOptions & { app: string; env?: string };
type RedeployOptions = ValuesOptions & WaitOptions & { deploy?: boolean };

/** What a masked secret shows instead of its value. */
export const MASK = '********';
/** The longest deployment message the server accepts (CreateDeploymentBody.message). */
const MAX_MESSAGE_LENGTH = 1000;
// Plain values longer than this are cut in change lines; `pave values list` shows them whole.
const CHANGE_VALUE_WIDTH = 60;
const KEY_RULE = 'use letters, digits and "_", not starting with a digit';

/** A dotenv file has problems; they are printed on stderr already and nothing was sent. Exit code 1. */
export class DotenvFileError extends Error {
  override name = 'DotenvFileError';
}

/**
 * `pave values set|unset|list|history|diff|import|export|rollback`: an application's configuration values and
 * secrets, at app level (every environment's default) or per environment (overrides).
 */
export function registerValuesCommands(program: Command, io: CliIo): void {
  const values = program
    .command('values')
    .summary('Set, list and version configuration values and secrets')
    .description(
      'Configuration values and secrets of an application: app-level values are the default of every ' +
        "environment, and an environment may override them (--env). Each change of an environment's " +
        'effective values is a new version; values take effect on the next deployment (or add --deploy).',
    )
    .addHelpText(
      'after',
      examples(
        'pave values set GREETING=hello --app shop',
        'pave values set API_TOKEN=s3cr3t --secret --app shop --env prod --deploy --wait',
        'pave values list --app shop --env prod',
        'pave values history --app shop --env prod',
        'pave values diff --app shop --env prod --from 3',
        'pave values rollback 3 --app shop --env prod',
      ),
    );

  addClientOptions(
    addRedeployOptions(
      aliasApiFields(values.command('set'), { '/set': '<assignments>' })
        .description(
          'Set values (KEY=VALUE, split at the first "="; VALUE may be empty) at app level, or for one ' +
            'environment with --env; a secret is stored encrypted and never printed',
        )
        .argument('<assignments...>', 'KEY=VALUE pairs, e.g. GREETING=hello')
        .requiredOption('--app <app>', 'the application')
        .option(
          '--env <env>',
          'set them for this environment only (default: app level, for every environment)',
        )
        .option(
          '--secret',
          'mark them secret: stored encrypted, masked in lists and exports unless revealed',
        ),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave values set GREETING=hello LOG_LEVEL=debug --app shop',
        'pave values set GREETING=hi --app shop --env dev --deploy --wait',
        'pave values set API_TOKEN=s3cr3t --secret --app shop --env prod',
        'pave values import - --secret --app shop --env prod < secrets.env   # keeps secrets out of shell history',
      ),
    )
    .action(async (assignments: string[], options: RedeployOptions & { secret?: boolean }) => {
      const timeoutSeconds = checkRedeployFlags(options);
      const { VALUE_KEY_PATTERN } = await import('../core.ts');
      const parsed = parseAssignments(assignments, {
        keyPattern: VALUE_KEY_PATTERN,
        secret: options.secret === true,
      });
      const set: NonNullable<PatchValuesBody['set']> = {};
      for (const { key, value } of parsed) set[key] = { value, ...(options.secret ? { secret: true } : {}) };
      const { client, output } = await clientFor(options, io);
      const changed = await client.patchValues(options.app, options.env, { set });
      await reportValuesChange(client, output, io, options, changed, {
        timeoutSeconds,
        message: changedKeysMessage(parsed.map((entry) => entry.key)),
      });
    });

  addClientOptions(
    addRedeployOptions(
      aliasApiFields(values.command('unset'), { '/unset': '<keys>' })
        .description(
          "Remove values at app level, or an environment's overrides with --env (the app-level value, if " +
            'any, applies again); a key that is not set there is named, nothing is removed for it, and the ' +
            'exit code is still 0',
        )
        .argument('<keys...>', 'the keys to remove, e.g. GREETING')
        .requiredOption('--app <app>', 'the application')
        .option('--env <env>', "remove this environment's overrides (default: app level)"),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave values unset GREETING --app shop',
        'pave values unset GREETING LOG_LEVEL --app shop --env dev --deploy',
      ),
    )
    .action(async (keys: string[], options: RedeployOptions) => {
      const timeoutSeconds = checkRedeployFlags(options);
      const { VALUE_KEY_PATTERN } = await import('../core.ts');
      const unset = parseKeys(keys, VALUE_KEY_PATTERN);
      const { client, output } = await clientFor(options, io);
      const changed = await client.patchValues(options.app, options.env, { unset });
      await reportValuesChange(client, output, io, options, changed, {
        timeoutSeconds,
        message: changedKeysMessage(unset),
      });
    });

  addClientOptions(
    values
      .command('list')
      .description(
        "List values: an environment's effective values and where each comes from (app or env), or the " +
          'app-level values without --env; secrets are masked unless --reveal',
      )
      .requiredOption('--app <app>', 'the application')
      .option('--env <env>', 'the environment whose effective values to list (default: app level)')
      .option('--reveal', "show secrets' values (the read is recorded in the audit log)"),
  )
    .addHelpText(
      'after',
      examples(
        'pave values list --app shop',
        'pave values list --app shop --env prod',
        'pave values list --app shop --env prod --reveal -o json',
      ),
    )
    .action(async (options: ValuesOptions & { reveal?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      const list = await client.listValues(options.app, options.env, { reveal: options.reveal === true });
      const colors = colorsFor(io.stdout, io.env);
      output.show(list, (body) => renderValueList(body, { app: options.app, env: options.env }, colors));
    });

  addClientOptions(
    values
      .command('history')
      .description(
        "List the versions of an environment's effective values, with who changed what, newest first, " +
          'a page at a time',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option('--limit <n>', 'at most this many versions (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave values history --app shop --env prod',
        'pave values history --app shop --env prod --limit 20 -o json',
        'pave values history --app shop --env prod --cursor 120',
      ),
    )
    .action(async (options: ValuesOptions & { env: string; limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'versions');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.valuesHistory(options.app, options.env, query), (page) => {
        const table = renderValuesHistory(page.items, options.app, options.env, colors, options.cursor);
        return withMoreLine(table, page.nextCursor, {
          items: 'versions',
          command: `pave values history --app ${options.app} --env ${options.env}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    values
      .command('diff')
      .description(
        "Compare two versions of an environment's values, key by key (by default the newest with the one " +
          'before); plain values are shown, secrets only whether they changed',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option(
        '--from <version>',
        'the older side (the version before --to unless given; 0: before any value)',
      )
      .option('--to <version>', 'the newer side (the newest version unless given)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave values diff --app shop --env prod',
        'pave values diff --app shop --env prod --from 3 --to 7',
        'pave values diff --app shop --env prod --from 0 -o json',
      ),
    )
    .action(async (options: ValuesOptions & { env: string; from?: string; to?: string }) => {
      const query = {
        ...(options.from === undefined ? {} : { from: parseVersionFlag(options.from, '--from') }),
        ...(options.to === undefined ? {} : { to: parseVersionFlag(options.to, '--to') }),
      };
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.valuesDiff(options.app, options.env, query), (diff) =>
        renderValuesDiff(diff, options.app, options.env, colors),
      );
    });

  addClientOptions(
    addRedeployOptions(
      aliasApiFields(values.command('import'), { '/dotenv': '<file>' })
        .description(
          'Import a dotenv file (KEY=value lines, # comments, quoted values) at app level or for one ' +
            'environment; a malformed file is refused whole, naming each bad line, and nothing is written',
        )
        .argument('<file>', 'the dotenv file; - reads stdin')
        .requiredOption('--app <app>', 'the application')
        .option('--env <env>', 'import for this environment only (default: app level)')
        .option('--secret', 'mark every imported key secret'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave values import .env --app shop',
        'pave values import prod.env --app shop --env prod --deploy --wait',
        'pave values import - --secret --app shop --env prod < secrets.env',
      ),
    )
    .action(async (file: string, options: RedeployOptions & { secret?: boolean }) => {
      const timeoutSeconds = checkRedeployFlags(options);
      const text = await readDotenvFile(file, io);
      const { keys, problems } = await checkDotenv(displayName(file), text, {
        secret: options.secret === true,
      });
      if (problems.length > 0) {
        for (const problem of problems) io.stderr.write(`${problem}\n`);
        throw new DotenvFileError(
          `${plural(problems.length, 'problem')} in ${displayName(file)}; nothing was sent to the server`,
        );
      }
      const { client, output } = await clientFor(options, io);
      const changed = await client.importValues(options.app, options.env, {
        dotenv: text,
        ...(options.secret ? { secret: true } : {}),
      });
      await reportValuesChange(client, output, io, options, changed, {
        timeoutSeconds,
        message: changedKeysMessage(keys),
      });
    });

  addClientOptions(
    values
      .command('export')
      .description(
        'Write values as a dotenv file (to stdout, or FILE with -f): the effective values of --env, or the ' +
          'app-level ones; secrets are left out unless --reveal, and a file holding secrets gets mode 0600',
      )
      .requiredOption('--app <app>', 'the application')
      .option('--env <env>', 'export the effective values of this environment (default: app level)')
      .option('--reveal', 'include secrets (the read is recorded in the audit log)')
      .option('-f, --file <file>', 'write to this file instead of stdout'),
  )
    .addHelpText(
      'after',
      examples(
        'pave values export --app shop --env dev > dev.env',
        'pave values export --app shop --env prod --reveal -f prod.env',
      ),
    )
    .action(async (options: ValuesOptions & { reveal?: boolean; file?: string }) => {
      const { client, output } = await clientFor(options, io);
      const list = await client.listValues(options.app, options.env, { reveal: options.reveal === true });
      const exported = await exportDotenv(list);
      // With -o json or yaml the API's list is written as it came (masked secrets are null in it).
      const text = output.format === 'table' ? exported.text : dataText(output.format, list);
      const holdsSecrets = list.items.some((item) => item.secret && item.value !== null);
      if (!output.forScripts && exported.omittedSecrets.length > 0) {
        io.stderr.write(`${omittedSecretsNote(exported.omittedSecrets)}\n`);
      }
      if (options.file === undefined) {
        io.stdout.write(text);
        return;
      }
      await writeExport(options.file, text, holdsSecrets);
      output.confirm(
        `Wrote ${plural(list.items.length - exported.omittedSecrets.length, 'value')} to ${options.file}` +
          (holdsSecrets ? ' (mode 0600: it holds secrets)' : ''),
      );
    });

  addClientOptions(
    addRedeployOptions(
      values
        .command('rollback')
        .description(
          "Restore an earlier version of an environment's values, as a new version; the workloads are not " +
            'redeployed unless --deploy',
        )
        .argument('<version>', 'the version to restore, e.g. 3 (see `pave values history`)')
        .requiredOption('--app <app>', 'the application')
        .requiredOption('--env <env>', 'the environment'),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave values rollback 3 --app shop --env prod',
        'pave values rollback 3 --app shop --env prod --deploy --wait',
      ),
    )
    .action(async (version: string, options: RedeployOptions & { env: string }) => {
      if (!/^\d+$/.test(version) || Number(version) < 1 || !Number.isSafeInteger(Number(version))) {
        throw new CliUsageError(`VERSION: "${version}" is not a values version; use a number such as 3`);
      }
      const timeoutSeconds = checkRedeployFlags(options);
      const { client, output } = await clientFor(options, io);
      const changed = await client.rollbackValues(options.app, options.env, Number(version));
      await reportValuesChange(client, output, io, options, changed, {
        timeoutSeconds,
        message: `values rolled back to version ${Number(version)}`,
      });
    });
}

/**
 * Adds `--deploy`, `--wait`, `--timeout` and `--wait-timeout` to a command that changes values (the redeploy
 * may await approval, as a deployment of a production environment does).
 */
function addRedeployOptions(command: Command): Command {
  return addWaitTimeoutOption(
    addWaitOptions(
      command.option(
        '--deploy',
        "then redeploy the environment's current set with the new values (needs --env; when it runs nothing yet, its first deployment takes them)",
      ),
      'with --deploy: how long each workload may take to become ready (and the runtime target to answer first), ' +
        'e.g. 60s or 2m (default 60s)',
    ),
  );
}

/**
 * Checks `--deploy`, `--wait`, `--timeout` and `--wait-timeout` before anything is sent; returns the timeout
 * in seconds. Throws CliUsageError when --deploy has no --env, --wait/--timeout/--wait-timeout come without
 * --deploy, or --wait-timeout without --wait or is no duration.
 */
function checkRedeployFlags(options: RedeployOptions): number | undefined {
  if (options.deploy && options.env === undefined) {
    throw new CliUsageError(
      '--deploy redeploys one environment; name it with --env ENV (app-level values reach each environment on its next deployment)',
    );
  }
  if (!options.deploy) {
    const given = options.wait
      ? '--wait'
      : options.timeout !== undefined
        ? '--timeout'
        : options.waitTimeout !== undefined
          ? '--wait-timeout'
          : undefined;
    if (given) throw new CliUsageError(`${given} goes with --deploy; add --deploy to redeploy`);
  }
  checkWaitTimeout(options);
  return timeoutSecondsOf(options);
}

/**
 * Prints a change of values and, with --deploy, redeploys the environment's current set. For people: the
 * changes, the new version(s), then the queued deployment (followed with --wait). With `-o json`: the
 * ValuesChanged as it came, or with --deploy one object `{ values, deployment }` (the Deployment, or with
 * --wait the final DeploymentDetail, or the Deployment as queued when --wait-timeout ran out; null when the
 * redeploy was refused, and when the environment runs nothing and has no deployment on its way: there is no
 * set to redeploy, and its first deployment takes the values, which people are told).
 */
async function reportValuesChange(
  client: PaveClient,
  output: CommandOutput,
  io: CliIo,
  options: RedeployOptions,
  changed: ValuesChanged,
  redeploy: { timeoutSeconds: number | undefined; message: string },
): Promise<void> {
  const colors = colorsFor(io.stdout, io.env);
  const target = { app: options.app, env: options.env };
  if (!options.deploy || options.env === undefined) {
    output.show(changed, (body) => renderValuesChanged(body, target, colors, { hintDeploy: true }));
    return;
  }
  const env = options.env;
  // Nothing deployed and nothing on its way: a redeploy would record a deployment of nothing. A status the
  // server does not give leaves it to the redeploy, which says what is wrong.
  const status = await client.getStatus(options.app, env).catch(() => undefined);
  if (status && !status.currentDeployment && !status.pendingDeployment) {
    // A first deployment awaiting approval keeps the values it was asked with (the ones approved).
    const awaiting =
      status.latestDeployment?.status === 'awaiting-approval' ? status.latestDeployment : undefined;
    const deployCommand = `pave deploy -f score.yaml --app ${options.app} --env ${env}`;
    const why = awaiting
      ? `its first deployment (${awaiting.id}) awaits approval with the values it was asked with, not these: ` +
        `they reach ${options.app}/${env} with the deployment after it (${deployCommand})`
      : `its first deployment uses these values (${deployCommand})`;
    output.show({ values: changed, deployment: null }, (result) =>
      [
        renderValuesChanged(result.values, target, colors, { hintDeploy: false }),
        `${options.app}/${env} runs nothing yet, so nothing was redeployed: ${why}`,
      ].join('\n'),
    );
    return;
  }
  const progress = progressOn(io.stderr, io.env, output.format);
  const body = {
    workloads: [],
    message: redeploy.message,
    ...(redeploy.timeoutSeconds !== undefined ? { timeoutSeconds: redeploy.timeoutSeconds } : {}),
  };
  if (!output.forScripts) {
    output.show(changed, (result) => renderValuesChanged(result, target, colors, { hintDeploy: false }));
    const queued = (await client.createDeployment(options.app, env, body)) as Deployment;
    await reportQueuedDeployment(client, queued, output, {
      wait: options.wait,
      waitTimeout: options.waitTimeout,
      timeoutSeconds: redeploy.timeoutSeconds,
      colors,
      progress,
    });
    return;
  }
  let deployment: Deployment | DeploymentDetail | null = null;
  try {
    deployment = (await client.createDeployment(options.app, env, body)) as Deployment;
    if (options.wait) {
      progress.line(queuedLine(deployment));
      const waitTimeoutMs = waitTimeoutMsOf(options);
      deployment = await waitForDeployment(client, options.app, env, deployment.id, output, {
        timeoutMs: giveUpAfterMs(redeploy.timeoutSeconds),
        colors,
        progress,
        printResult: false,
        ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
      });
    }
  } catch (error) {
    if ((error as Error | undefined)?.name === 'DeploymentFailedError') {
      deployment = (error as { deployment: DeploymentDetail }).deployment;
    }
    output.show({ values: changed, deployment }, () => '');
    throw error;
  }
  output.show({ values: changed, deployment }, () => '');
}

/** The message of the deployment `--deploy` starts: `values changed: KEY1, KEY2`, cut to what the server takes. */
export function changedKeysMessage(keys: readonly string[]): string {
  const prefix = 'values changed: ';
  const unique = [...new Set(keys)];
  for (let shown = unique.length; shown > 0; shown--) {
    const rest = unique.length - shown;
    const text = prefix + unique.slice(0, shown).join(', ') + (rest > 0 ? ` and ${rest} more` : '');
    if (text.length <= MAX_MESSAGE_LENGTH) return text;
  }
  return `values changed: ${unique.length} keys`;
}

/** One `KEY=VALUE` argument of `pave values set`, parsed. */
export interface Assignment {
  key: string;
  value: string;
}

/**
 * Parses `KEY=VALUE` arguments, each split at its first `=` (so a VALUE may hold `=` and may be empty). A key
 * must match `keyPattern` (core's VALUE_KEY_PATTERN) and be given once. Throws CliUsageError naming every bad
 * argument, by position and key; a value never appears in the message, and with `secret` neither does an
 * argument that has no `=` (it may be a secret pasted without its key).
 */
export function parseAssignments(
  args: readonly string[],
  options: { keyPattern: RegExp; secret: boolean },
): Assignment[] {
  const problems: string[] = [];
  const assignments: Assignment[] = [];
  const seen = new Map<string, number>();
  args.forEach((arg, index) => {
    const position = index + 1;
    const equals = arg.indexOf('=');
    if (equals < 0) {
      const shown = options.secret ? '' : ` ("${truncate(arg)}")`;
      problems.push(`argument ${position}${shown} has no "="; write KEY=VALUE (KEY= for an empty value)`);
      return;
    }
    const key = arg.slice(0, equals);
    const value = arg.slice(equals + 1);
    if (key === '') {
      problems.push(`argument ${position} has no key before "="; write KEY=VALUE`);
      return;
    }
    if (!options.keyPattern.test(key)) {
      problems.push(`argument ${position} ("${truncate(key)}=…"): the key is not valid; ${KEY_RULE}`);
      return;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push(
        `argument ${position}: ${key} is already given by argument ${earlier}; give each key once`,
      );
      return;
    }
    seen.set(key, position);
    assignments.push({ key, value });
  });
  if (problems.length === 1) throw new CliUsageError(`bad KEY=VALUE ${problems[0]}`);
  if (problems.length > 1) {
    throw new CliUsageError(
      `${problems.length} bad KEY=VALUE arguments:\n${problems.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return assignments;
}

/**
 * Checks the keys of `pave values unset`: each must match `keyPattern`; duplicates are dropped. Throws
 * CliUsageError naming every bad one (an argument with `=` is named by its key alone).
 */
export function parseKeys(args: readonly string[], keyPattern: RegExp): string[] {
  const problems: string[] = [];
  args.forEach((arg, index) => {
    const position = index + 1;
    const equals = arg.indexOf('=');
    if (equals >= 0) {
      problems.push(
        `argument ${position} ("${truncate(arg.slice(0, equals))}=…"): give the key alone, without "="`,
      );
    } else if (!keyPattern.test(arg)) {
      problems.push(`argument ${position} ("${truncate(arg)}") is not a valid key; ${KEY_RULE}`);
    }
  });
  if (problems.length === 1) throw new CliUsageError(`bad KEY ${problems[0]}`);
  if (problems.length > 1) {
    throw new CliUsageError(
      `${problems.length} bad KEY arguments:\n${problems.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return [...new Set(args)];
}

/**
 * One change of a value for people: `+ KEY: value`, `- KEY: value`, `~ KEY: old → new` for plain values,
 * and for a secret only its key, e.g. `~ API_TOKEN (secret, changed)`, or `? API_TOKEN (secret, not
 * compared: …)` where the server would not compare it. A secret's value is never shown, even if the change
 * were to carry it.
 */
export function formatValueChange(change: ValueChange, colors: Colors): string {
  if (change.action === 'not-compared') {
    return `${colors.dim('?')} ${change.key} (secret, not compared: comparing two environments' secrets needs values.reveal on both)`;
  }
  const sign = { added: colors.green('+'), removed: colors.red('-'), changed: colors.yellow('~') }[
    change.action
  ];
  if (change.secret) {
    return `${sign} ${change.key} (${change.action === 'changed' ? 'secret, changed' : 'secret'})`;
  }
  const { from, to } = change;
  switch (change.action) {
    case 'added':
      return to !== undefined ? `${sign} ${change.key}: ${showValue(to)}` : `${sign} ${change.key}`;
    case 'removed':
      return from !== undefined ? `${sign} ${change.key}: ${showValue(from)}` : `${sign} ${change.key}`;
    case 'changed':
      return from !== undefined && to !== undefined
        ? `${sign} ${change.key}: ${showValue(from)} → ${showValue(to)}`
        : `${sign} ${change.key} (changed)`;
  }
}

/**
 * Renders the result of a change for people: the changed keys (see {@link formatValueChange}), then the new
 * version of each environment whose effective values changed, then the keys to unset that were not set there.
 * `target` is where the change was made (`env` absent: app level); `hintDeploy` adds how to make the values
 * take effect.
 */
export function renderValuesChanged(
  result: ValuesChanged,
  target: { app: string; env?: string | undefined },
  colors: Colors,
  options: { hintDeploy: boolean } = { hintDeploy: false },
): string {
  const where =
    target.env !== undefined ? `${target.app}/${target.env}` : `the app-level values of ${target.app}`;
  const notSet = result.notSet?.length ? notSetText(result.notSet, target) : undefined;
  if (result.changes.length === 0) return notSet ?? `No changes: ${where} already had these values.`;
  const lines = [
    `Changed ${where}:`,
    ...result.changes.map((change) => `  ${formatValueChange(change, colors)}`),
  ];
  if (result.versions.length === 0) {
    lines.push("No environment's effective values changed (each overrides these keys, or there are none).");
    if (notSet !== undefined) lines.push(notSet);
    return lines.join('\n');
  }
  const versions = result.versions.map((entry) => `${target.app}/${entry.envId} ${entry.version}`).join(', ');
  lines.push(`New values ${result.versions.length === 1 ? 'version' : 'versions'}: ${versions}`);
  if (notSet !== undefined) lines.push(notSet);
  if (options.hintDeploy) {
    lines.push(
      target.env !== undefined
        ? 'They take effect on the next deployment; add --deploy to redeploy now.'
        : 'They take effect on the next deployment of each environment.',
    );
  }
  return lines.join('\n');
}

// Unsetting a key that is not there is no error (as with Heroku's config:unset), but it is said: a typo in the
// key, or a value set at the other level, would otherwise look like a removal.
function notSetText(keys: readonly string[], target: { app: string; env?: string | undefined }): string {
  const subject = `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} not set`;
  if (target.env === undefined) {
    return (
      `${subject} in the app-level values of ${target.app}: nothing was removed ` +
      `(\`pave values list --app ${target.app}\` lists them).`
    );
  }
  return (
    `${subject} in ${target.app}/${target.env}'s own values: nothing was removed ` +
    `(\`pave values list --app ${target.app} --env ${target.env}\` lists them with their source; an ` +
    'app-level value is unset without --env).'
  );
}

/**
 * Renders a ValueList for people: a line naming whose values they are and their version, then a table of
 * KEY, VALUE (`********` for a masked secret), SECRET, SOURCE, UPDATED BY, UPDATED AT.
 */
export function renderValueList(
  list: ValueList,
  target: { app: string; env?: string | undefined },
  colors: Colors,
): string {
  const columns: Column<ValueEntry>[] = [
    { header: 'key', value: (entry) => entry.key },
    { header: 'value', value: (entry) => (entry.value === null ? MASK : entry.value) },
    { header: 'secret', value: (entry) => (entry.secret ? 'yes' : '-') },
    { header: 'source', value: (entry) => entry.source },
    { header: 'updated by', value: (entry) => entry.updatedBy },
    { header: 'updated at', value: (entry) => formatTime(entry.updatedAt) },
  ];
  const where = target.env !== undefined ? `${target.app}/${target.env}` : target.app;
  const scope = target.env !== undefined ? 'effective values' : 'app-level values';
  const version =
    list.version !== null ? `, version ${list.version}` : target.env !== undefined ? ', no version yet' : '';
  const secrets = list.items.some((entry) => entry.secret)
    ? list.revealed
      ? ' (secrets revealed; the read is in the audit log)'
      : ' (secrets masked; --reveal shows them)'
    : '';
  const setCommand = `pave values set KEY=VALUE --app ${target.app}${target.env !== undefined ? ` --env ${target.env}` : ''}`;
  const table = formatTable(list.items, columns, {
    empty: `No values yet. Set one with \`${setCommand}\`.`,
    styleHeader: colors.bold,
  });
  return `${where}: ${scope}${version}${secrets}\n\n${table}`;
}

/**
 * Renders the versions of an environment's values as VERSION, ACTOR, CREATED, REASON, CHANGES
 * (`+NEW ~GREETING -OLD`); an empty page after `cursor` (its `--cursor`) says there are no more rather than
 * none at all.
 */
export function renderValuesHistory(
  items: readonly ValuesVersion[],
  app: string,
  env: string,
  colors: Colors,
  cursor?: string,
): string {
  const columns: Column<ValuesVersion>[] = [
    { header: 'version', value: (version) => String(version.version) },
    { header: 'actor', value: (version) => version.actor },
    { header: 'created', value: (version) => formatTime(version.createdAt) },
    { header: 'reason', value: (version) => version.reason || '-' },
    { header: 'changes', value: (version) => summarizeChanges(version.changes) || '-' },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      `No values versions in ${app}/${env} yet. Set a value with \`pave values set KEY=VALUE --app ${app} --env ${env}\`.`,
      cursor,
      `values versions in ${app}/${env}`,
    ),
    styleHeader: colors.bold,
  });
}

/** A version number given to `flag`: digits (0 is before any value); CliUsageError otherwise. */
function parseVersionFlag(text: string, flag: string): number {
  const version = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(version)) {
    throw new CliUsageError(
      `${flag}: "${text}" is not a values version; use a number such as 3 (0: before any value; see \`pave values history\`)`,
    );
  }
  return version;
}

/**
 * Renders a comparison of two values versions for people: a line naming them, then KEY, CHANGE, FROM, TO,
 * with `(secret)` in place of a secret's values.
 */
export function renderValuesDiff(diff: ValuesDiff, app: string, env: string, colors: Colors): string {
  const name = (version: number) => (version === 0 ? 'before any value' : `version ${version}`);
  const shown = (entry: ValueKeyDiff, value: string | null, present: boolean) =>
    !present ? '-' : entry.secret ? '(secret)' : showValue(value);
  const columns: Column<ValueKeyDiff>[] = [
    { header: 'key', value: (entry) => entry.key },
    { header: 'change', value: (entry) => entry.change },
    { header: 'from', value: (entry) => shown(entry, entry.from, entry.change !== 'added') },
    { header: 'to', value: (entry) => shown(entry, entry.to, entry.change !== 'removed') },
  ];
  const changed = diff.keys.filter((entry) => entry.change !== 'unchanged').length;
  const heading =
    `${app}/${env}: ${name(diff.from)} → ${name(diff.to)}, ` +
    (changed === 0 ? 'no key changed' : `${plural(changed, 'key')} changed`);
  const table = formatTable(diff.keys, columns, {
    empty: 'Neither version holds a value.',
    styleHeader: colors.bold,
  });
  return `${heading}\n\n${table}`;
}

/** The keys of changes with their action's sign, e.g. `+NEW ~GREETING -OLD`; never a value. */
export function summarizeChanges(changes: readonly ValueChange[]): string {
  const signs = { added: '+', removed: '-', changed: '~', 'not-compared': '?' } as const;
  return changes.map((change) => `${signs[change.action]}${change.key}`).join(' ');
}

/**
 * The dotenv text of a listed set of values and the keys of the secrets left out because their values were
 * masked (listed without --reveal): core's `valuesAsDotenv`, loaded on demand.
 */
export async function exportDotenv(list: ValueList): Promise<{ text: string; omittedSecrets: string[] }> {
  const { valuesAsDotenv } = await import('../core.ts');
  return valuesAsDotenv(list);
}

/** The stderr note of `pave values export` about the secrets it left out. */
export function omittedSecretsNote(keys: readonly string[]): string {
  return (
    `pave: note: left out ${plural(keys.length, 'secret')} (${keys.join(', ')}); ` +
    'add --reveal to export their values (the read is recorded in the audit log)'
  );
}

/**
 * Checks dotenv text locally with core's `parseDotenv`: resolves with its keys and each problem as
 * `FILE:LINE: message`. With `secret`, the text a message quotes from a bad line is hidden, as it may hold a
 * secret.
 */
export async function checkDotenv(
  file: string,
  text: string,
  options: { secret: boolean } = { secret: false },
): Promise<{ keys: string[]; problems: string[] }> {
  const { parseDotenv } = await import('../core.ts');
  const parsed = parseDotenv(text);
  return {
    keys: parsed.entries.map((entry) => entry.key),
    problems: parsed.problems.map((problem) => {
      const message = options.secret
        ? problem.message.replace(/ "[\s\S]*"$/, ' (text not shown: the file holds secrets)')
        : problem.message;
      return `${file}:${problem.line}: ${message}`;
    }),
  };
}

function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

async function readDotenvFile(file: string, io: CliIo): Promise<string> {
  try {
    return await readFileArgument(file, () => io.readStdin());
  } catch (error) {
    throw new CliUsageError(`cannot read ${displayName(file)}: ${describeFileError(error, file, 'read')}`);
  }
}

// A file that holds secrets is made 0600 before anything is written to it, even when it existed already.
// CliUsageError naming the file, why and what to do when it cannot be written.
async function writeExport(file: string, text: string, holdsSecrets: boolean): Promise<void> {
  try {
    const handle = await open(file, 'w', holdsSecrets ? 0o600 : 0o666);
    try {
      if (holdsSecrets) await handle.chmod(0o600);
      await handle.writeFile(text, 'utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new CliUsageError(
      `cannot write ${file} (-f): ${describeFileError(error, file, 'write')}; ` +
        'give -f a file in an existing directory you may write to',
    );
  }
}

// A plain value in a change line: as it is when that reads unambiguously, else JSON-quoted; long ones cut.
function showValue(value: string | null): string {
  if (value === null) return '(none)';
  const cut = value.length > CHANGE_VALUE_WIDTH ? `${value.slice(0, CHANGE_VALUE_WIDTH - 1)}…` : value;
  return /^[!#-~](?:[ !#-~]*[!#-~])?$/.test(cut) ? cut : JSON.stringify(cut);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
