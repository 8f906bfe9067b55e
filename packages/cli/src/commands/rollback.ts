import type { Command } from 'commander';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import {
  addWaitOptions,
  addWaitTimeoutOption,
  checkWaitTimeout,
  progressOn,
  reportQueuedDeployment,
  timeoutSecondsOf,
} from './progress.ts';
import type { WaitOptions } from './progress.ts';
import {
  addPolicyOverrideOptions,
  policyOverrideFields,
  policyOverrideOrigins,
  type PolicyOverrideOptions,
} from './policies.ts';

type RollbackOptions = ClientOptions &
  WaitOptions &
  PolicyOverrideOptions & { app: string; env: string; message?: string; recreateMissing?: boolean };

/** `pave rollback`: redeploy an earlier deployment's set as a new deployment. */
export function registerRollbackCommand(program: Command, io: CliIo): void {
  addClientOptions(
    addWaitTimeoutOption(
      addWaitOptions(
        addPolicyOverrideOptions(
          aliasApiFields(program.command('rollback'), {
            '/deploymentId': '<deployment>',
            '/timeoutSeconds': '--timeout',
          })
            .summary("Redeploy an earlier deployment's set as a new deployment")
            .description(
              "Redeploy an earlier deployment's set of workloads as a new deployment " +
                '(default: the previous successful one)',
            )
            .argument(
              '[deployment]',
              'the deployment whose set to restore, e.g. 15 (see `pave deployments list`)',
            )
            .requiredOption('--app <app>', 'the application')
            .requiredOption('--env <env>', 'the environment')
            .option('-m, --message <text>', 'why: shown in `pave deployments list` and the audit log')
            .option(
              '--recreate-missing',
              'create resources of the restored set again that Pave recorded but that are gone (see `pave resources check`)',
            ),
        ),
      ),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave rollback --app shop --env dev --wait',
        'pave rollback 15 --app shop --env dev -m "checkout broke" --wait --timeout 2m',
        'pave rollback 15 --app shop --env dev --recreate-missing --wait',
      ),
    )
    .action(async (deployment: string | undefined, options: RollbackOptions) => {
      if (deployment !== undefined && !/^\d+$/.test(deployment)) {
        throw new CliUsageError(
          `DEPLOYMENT: "${deployment}" is not a deployment id; use a number such as 15`,
        );
      }
      const timeoutSeconds = timeoutSecondsOf(options);
      checkWaitTimeout(options);
      const overrides = policyOverrideFields(options);
      const { client, output } = await clientFor(options, io);
      const queued = await withFieldOrigins(policyOverrideOrigins(options), () =>
        client.rollback(options.app, options.env, {
          ...(deployment !== undefined ? { deploymentId: deployment } : {}),
          ...(options.message !== undefined ? { message: options.message } : {}),
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(options.recreateMissing ? { recreateMissing: true } : {}),
          ...overrides,
        }),
      );
      await reportQueuedDeployment(client, queued, output, {
        wait: options.wait,
        waitTimeout: options.waitTimeout,
        timeoutSeconds,
        colors: colorsFor(io.stdout, io.env),
        progress: progressOn(io.stderr, io.env, output.format),
      });
    });
}
