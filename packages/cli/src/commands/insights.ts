import type { Command } from 'commander';
import { insightsWindowSeconds, INSIGHTS_MAX_WINDOW_DAYS, type DoraBand, type Insights } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type InsightsOptions = ClientOptions & { app: string; env?: string; since: string };

/** `pave insights`: the DORA measures of an app's deployments over a window. */
export function registerInsightsCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('insights')
      .summary(
        'Show DORA insights of an app: deployment frequency, lead time, change failure rate, time to restore',
      )
      .description(
        'Show the four DORA measures of an app’s deployments over a window, each with its performance band ' +
          '(elite, high, medium, low): how often deployments succeed, how long a commit takes to be deployed ' +
          '(from `pave deploy --commit-time` or the artifact’s commit time), how many deployments fail or are ' +
          'rolled back, and how long an environment takes to recover. docs/insights.md defines each',
      )
      .requiredOption('--app <app>', 'the application')
      .option('--env <env>', 'only this environment (default: every environment of the app you may read)')
      .option('--since <window>', 'how far back to look: 24h, 30d, 12w', '30d'),
  )
    .addHelpText(
      'after',
      examples(
        'pave insights --app shop',
        'pave insights --app shop --env prod --since 12w',
        'pave insights --app shop --since 7d -o json',
      ),
    )
    .action(async (options: InsightsOptions) => {
      if (insightsWindowSeconds(options.since) === undefined) {
        throw new CliUsageError(
          `--since: "${options.since}" is not a window; use a whole number of hours, days or weeks, ` +
            `e.g. 24h, 30d or 12w (at most ${INSIGHTS_MAX_WINDOW_DAYS}d)`,
        );
      }
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const insights = await client.getInsights(options.app, {
        since: options.since,
        ...(options.env !== undefined ? { env: options.env } : {}),
      });
      output.show(insights, (body) => renderInsights(body, colors));
    });
}

/** The four measures as a table, one line each, with the window and environments above. */
export function renderInsights(insights: Insights, colors: Colors): string {
  const { deploymentFrequency: frequency, leadTime, changeFailureRate: failures, timeToRestore } = insights;
  const rows: Array<{ measure: string; value: string; detail: string; band: DoraBand | null }> = [
    {
      measure: 'Deployment frequency',
      value: `${frequency.perDay.toFixed(2)}/day`,
      detail: `${frequency.deployments} succeeded, ${frequency.perWeek.toFixed(1)}/week`,
      band: frequency.band,
    },
    {
      measure: 'Lead time for changes',
      value: formatDuration(leadTime.medianSeconds),
      detail: `p90 ${formatDuration(leadTime.p90Seconds)} over ${leadTime.count} deployments`,
      band: leadTime.band,
    },
    {
      measure: 'Change failure rate',
      value: failures.rate === null ? '—' : `${(failures.rate * 100).toFixed(1)} %`,
      detail: `${failures.failures} of ${failures.finished} finished`,
      band: failures.band,
    },
    {
      measure: 'Time to restore',
      value: formatDuration(timeToRestore.medianSeconds),
      detail:
        `p90 ${formatDuration(timeToRestore.p90Seconds)} over ${timeToRestore.count} failures` +
        (timeToRestore.unrestored > 0 ? `, ${timeToRestore.unrestored} not restored yet` : ''),
      band: timeToRestore.band,
    },
  ];
  const envs = insights.envs.length > 0 ? insights.envs.join(', ') : 'none you may read';
  const header = `${insights.app} (${envs}), ${insights.since.slice(0, 10)} to ${insights.until.slice(0, 10)} (${insights.days} days)`;
  const table = formatTable(
    rows,
    [
      { header: 'measure', value: (row) => row.measure },
      { header: 'figure', value: (row) => row.value },
      { header: 'band', value: (row) => colorBand(row.band, colors) },
      { header: 'detail', value: (row) => row.detail },
    ],
    { styleHeader: colors.bold },
  );
  return `${header}\n\n${table}`;
}

function colorBand(band: DoraBand | null, colors: Colors): string {
  if (band === null) return colors.dim('—');
  const color = { elite: colors.green, high: colors.cyan, medium: colors.yellow, low: colors.red }[band];
  return color(band);
}

/** Seconds for people: `45s`, `12m`, `3.5h`, `2.1d`; `—` when there is none. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `${Number((seconds / 3600).toFixed(1))}h`;
  return `${Number((seconds / 86_400).toFixed(1))}d`;
}
