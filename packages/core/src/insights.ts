import { z } from 'zod';
import { dnsLabel } from './ids.ts';

/*
 * DORA insights: the four key measures of software delivery (deployment frequency, lead time for changes,
 * change failure rate, time to restore) of an app's deployments over a window, each with its performance band.
 * docs/insights.md says exactly how each is computed.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** A DORA performance band, best first. */
export const DoraBand = z.enum(['elite', 'high', 'medium', 'low']).meta({ id: 'DoraBand' });
export type DoraBand = z.infer<typeof DoraBand>;

/** How a window is written: a whole number of hours, days or weeks (`24h`, `30d`, `12w`). */
export const INSIGHTS_WINDOW_FORMAT = /^([1-9][0-9]{0,4})([hdw])$/;
/** The longest window insights look back over: a year and a half. */
export const INSIGHTS_MAX_WINDOW_DAYS = 550;

/**
 * The length of a window (`30d`, `12w`, `24h`) in seconds; undefined when `text` is not one or is longer than
 * {@link INSIGHTS_MAX_WINDOW_DAYS} days.
 */
export function insightsWindowSeconds(text: string): number | undefined {
  const match = INSIGHTS_WINDOW_FORMAT.exec(text);
  if (!match) return undefined;
  const unit = { h: 3600, d: 86_400, w: 7 * 86_400 }[match[2] as 'h' | 'd' | 'w'];
  const seconds = Number(match[1]) * unit;
  return seconds > INSIGHTS_MAX_WINDOW_DAYS * 86_400 ? undefined : seconds;
}

export const InsightsQuery = z.strictObject({
  env: dnsLabel.optional().describe('Only this environment; default: every environment the caller may read.'),
  since: z
    .string()
    .refine((text) => insightsWindowSeconds(text) !== undefined, {
      message: `must be a window such as 24h, 30d or 12w (at most ${INSIGHTS_MAX_WINDOW_DAYS}d)`,
    })
    .optional()
    .describe('How far back to look: `24h`, `30d`, `12w`; default 30d.'),
});
export type InsightsQuery = z.infer<typeof InsightsQuery>;

/** A duration's median and 90th percentile (nearest rank) over `count` samples; null without samples. */
const DurationStats = z.object({
  count: z.number().int().describe('How many samples the percentiles are taken over.'),
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
  band: DoraBand.nullable().describe('The band of the median; null without samples.'),
});

/** One UTC day of the window. */
export const InsightsDay = z.object({
  date: z.string().describe('The UTC day, YYYY-MM-DD.'),
  deployments: z.number().int().describe('Succeeded deployments that finished that day.'),
  finished: z.number().int().describe('Deployments that finished that day (succeeded or failed).'),
  failures: z.number().int().describe('Of those, the ones that count as failed changes.'),
  leadTimeMedianSeconds: z.number().nullable(),
  restoreMedianSeconds: z.number().nullable().describe('Of the failed changes that finished that day.'),
});
export type InsightsDay = z.infer<typeof InsightsDay>;

/** The four DORA measures of an app's deployments over a window. */
export const Insights = z
  .object({
    app: z.string(),
    envs: z.array(z.string()).describe('The environments counted (those the caller may read).'),
    since: timestamp.describe('Start of the window (inclusive).'),
    until: timestamp.describe('End of the window: when the figures were computed.'),
    days: z.number().describe('The window’s length in days.'),
    deploymentFrequency: z.object({
      deployments: z
        .number()
        .int()
        .describe(
          'Succeeded deployments that finished in the window (restarts by Pave are no changes: never counted).',
        ),
      perDay: z.number(),
      perWeek: z.number(),
      band: DoraBand,
    }),
    leadTime: DurationStats.describe(
      'From the commit’s time to the deployment’s success, over succeeded deployments (not rollbacks) that know the time of their commit.',
    ),
    changeFailureRate: z.object({
      finished: z
        .number()
        .int()
        .describe('Deployments that finished in the window (succeeded or failed), restarts aside.'),
      failures: z
        .number()
        .int()
        .describe(
          'Of those: failed (auto-rolled back or not), or succeeded and followed by a rollback within 24 h.',
        ),
      rate: z.number().nullable().describe('failures / finished, 0–1; null when nothing finished.'),
      band: DoraBand.nullable(),
    }),
    timeToRestore: DurationStats.extend({
      unrestored: z.number().int().describe('Failed changes not followed by a succeeded deployment yet.'),
    }).describe('From a failed change to the next succeeded deployment of the same environment.'),
    series: z.array(InsightsDay).describe('Every UTC day of the window, oldest first.'),
  })
  .meta({ id: 'Insights' });
export type Insights = z.infer<typeof Insights>;

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * The band of a deployment frequency (per day), after the DORA reports: on demand (daily or more) elite, at
 * least monthly high, at least every six months medium, less low.
 */
export function frequencyBand(perDay: number): DoraBand {
  if (perDay >= 1) return 'elite';
  if (perDay >= 1 / 30) return 'high';
  if (perDay >= 1 / 182) return 'medium';
  return 'low';
}

/** The band of a lead time for changes: under a day elite, a week high, a month medium, more low. */
export function leadTimeBand(seconds: number): DoraBand {
  if (seconds < DAY) return 'elite';
  if (seconds < 7 * DAY) return 'high';
  if (seconds < 30 * DAY) return 'medium';
  return 'low';
}

/**
 * The band of a change failure rate (0–1), after the 2023 State of DevOps report's clusters (5 %, 10 %, 15 %,
 * 64 %): at most 5 % elite, 10 % high, 15 % medium, more low.
 */
export function changeFailureRateBand(rate: number): DoraBand {
  if (rate <= 0.05) return 'elite';
  if (rate <= 0.1) return 'high';
  if (rate <= 0.15) return 'medium';
  return 'low';
}

/** The band of a time to restore: under an hour elite, a day high, a week medium, more low. */
export function timeToRestoreBand(seconds: number): DoraBand {
  if (seconds < HOUR) return 'elite';
  if (seconds < DAY) return 'high';
  if (seconds < 7 * DAY) return 'medium';
  return 'low';
}
