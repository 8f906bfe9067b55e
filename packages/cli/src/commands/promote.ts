import type { Command } from 'commander';
import type { Deployment, DeploymentPlan } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { minReadySecondsOf, pruneFields } from './deploy.ts';
import type { PruneOptions } from './deploy.ts';
import { renderPlan } from './diff.ts';
import {
  addPolicyOverrideOptions,
  policyOverrideFields,
  policyOverrideOrigins,
  type PolicyOverrideOptions,
} from './policies.ts';
import {
  addWaitOptions,
  addWaitTimeoutOption,
  checkWaitTimeout,
  progressOn,
  reportQueuedDeployment,
  timeoutSecondsOf,
} from './progress.ts';
import type { WaitOptions } from './progress.ts';

type PromoteOptions = ClientOptions &
  WaitOptions & {
    app: string;
    from: string;
    to: string;
    message?: string;
    plan?: boolean;
    autoRollback: boolean;
    minReady?: string;
    recreateMissing?: boolean;
  } & PruneOptions &
  PolicyOverrideOptions;

// The target is the route's environment, the source the body's `fromEnv`; a source that does not exist is
// answered with a bare `env`, as no parameter of the request is named so.
const PROMOTE_FIELDS = {
  'path.env': '--to',
  '/fromEnv': '--from',
  env: '--from',
  '/minReadySeconds': '--min-ready',
  '/timeoutSeconds': '--timeout',
} as const;

/** `pave promote`: deploy one environment's current set to another environment. */
export function registerPromoteCommand(program: Command, io: CliIo): void {
  addClientOptions(
    addWaitTimeoutOption(
      addWaitOptions(
        addPolicyOverrideOptions(
          aliasApiFields(program.command('promote'), PROMOTE_FIELDS)
            .summary("Deploy one environment's current set to another environment")
            .description(
              "Deploy one environment's current set of workloads, exactly as it runs, to another environment",
            )
            .requiredOption('--app <app>', 'the application')
            .requiredOption('--from <env>', 'the environment whose current set to promote')
            .requiredOption('--to <env>', 'the environment to deploy it to')
            .option('-m, --message <text>', 'why: shown in `pave deployments list` and the audit log')
            .option(
              '--prune',
              'delete the resources of the target that the promoted set no longer uses (stateful ones need --allow-data-loss)',
            )
            .option(
              '--allow-data-loss',
              'accept losing data: --prune may delete unused stateful resources (postgres, redis, volumes), and a stateful resource whose driver cannot change it in place is replaced (deleted and created again, empty)',
            )
            .option(
              '--min-ready <duration>',
              "how long a workload without a readiness probe must keep running to count as ready, e.g. 10s or 0s (default: the environment type's, else 5s)",
            )
            .option(
              '--recreate-missing',
              'create resources of the target again that Pave recorded but that are gone (see `pave resources check`)',
            )
            .option('--plan', 'only show what would change in the target environment; deploy nothing')
            .option(
              '--no-auto-rollback',
              'if the deployment fails, leave it as it is instead of restoring the previous set',
            ),
        ),
      ),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave promote --app shop --from staging --to prod --plan',
        'pave promote --app shop --from staging --to prod -m "release 42" --wait',
      ),
    )
    .action(async (options: PromoteOptions) => {
      if (options.from === options.to) {
        throw new CliUsageError(`--from and --to are both "${options.to}"; promote to another environment`);
      }
      if (options.plan && options.wait) {
        throw new CliUsageError('--plan only shows what would change, so there is nothing to --wait for');
      }
      const timeoutSeconds = timeoutSecondsOf(options);
      checkWaitTimeout(options);
      const minReadySeconds =
        options.minReady === undefined ? undefined : minReadySecondsOf(options.minReady);
      const overrides = policyOverrideFields(options);
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const response = await withFieldOrigins(policyOverrideOrigins(options), () =>
        client.createDeployment(options.app, options.to, {
          fromEnv: options.from,
          ...(options.message !== undefined ? { message: options.message } : {}),
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          autoRollback: options.autoRollback,
          ...pruneFields(options),
          ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
          ...(options.recreateMissing ? { recreateMissing: true } : {}),
          ...(options.plan ? { plan: true } : {}),
          ...overrides,
        }),
      );
      if (options.plan) {
        output.show(response as DeploymentPlan, (plan) => renderPlan(plan, colors));
        return;
      }
      await reportQueuedDeployment(client, response as Deployment, output, {
        wait: options.wait,
        waitTimeout: options.waitTimeout,
        timeoutSeconds,
        colors,
        progress: progressOn(io.stderr, io.env, output.format),
      });
    });
}
