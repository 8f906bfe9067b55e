import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { allPages, type DoraBand, type Insights, type InsightsDay } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { Command, ErrorMessage, Section, useLoad } from '../components/common.tsx';
import { AppTabs } from '../components/app-tabs.tsx';

/** The windows offered, as the API writes them. */
const WINDOWS = ['7d', '30d', '90d', '26w'] as const;

/**
 * An app's DORA insights (`#/apps/<app>/insights`): the four measures with their bands as badges, a chart of
 * each by day, and the numbers behind the charts in a table. Loaded on its own, with its chart library.
 */
export function InsightsPage({ session, app }: { session: Session; app: string }) {
  const [since, setSince] = useState<string>('30d');
  const [env, setEnv] = useState<string>('');
  // Every environment, for the choice below (the API lists them a page at a time).
  const envs = useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listEnvironments(app, cursor ? { cursor } : {})),
    }),
    [session, app],
  );
  const insights = useLoad(
    () => session.client.getInsights(app, { since, ...(env ? { env } : {}) }),
    [session, app, since, env],
  );
  const data = insights.data;

  return (
    <>
      <p className="breadcrumbs">
        <a href={href('apps')}>← All apps</a>
      </p>
      <div className="page-head">
        <h1>{app}</h1>
      </div>
      <AppTabs app={app} current="insights" />
      <Command>{`pave insights --app ${app}${env ? ` --env ${env}` : ''} --since ${since}`}</Command>
      <div className="insights-controls">
        <label>
          Window{' '}
          <select value={since} onChange={(event) => setSince(event.target.value)}>
            {WINDOWS.map((window) => (
              <option key={window} value={window}>
                last {window}
              </option>
            ))}
          </select>
        </label>
        <label>
          Environment{' '}
          <select value={env} onChange={(event) => setEnv(event.target.value)}>
            <option value="">all you may read</option>
            {(envs.data?.items ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.id}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorMessage error={insights.error} />
      {!data && !insights.error && <p className="loading">Loading insights…</p>}
      {data && <InsightsView insights={data} />}
    </>
  );
}

/** The measures, charts and table of one answer. */
function InsightsView({ insights }: { insights: Insights }) {
  const { deploymentFrequency: frequency, leadTime, changeFailureRate: failures, timeToRestore } = insights;
  return (
    <>
      <div className="insights-cards">
        <Measure
          title="Deployment frequency"
          value={`${frequency.perDay.toFixed(2)} / day`}
          detail={`${frequency.deployments} succeeded (${frequency.perWeek.toFixed(1)} / week)`}
          band={frequency.band}
        />
        <Measure
          title="Lead time for changes"
          value={duration(leadTime.medianSeconds)}
          detail={`median; p90 ${duration(leadTime.p90Seconds)} over ${leadTime.count} deployments`}
          band={leadTime.band}
        />
        <Measure
          title="Change failure rate"
          value={failures.rate === null ? '—' : `${(failures.rate * 100).toFixed(1)} %`}
          detail={`${failures.failures} of ${failures.finished} finished deployments`}
          band={failures.band}
        />
        <Measure
          title="Time to restore"
          value={duration(timeToRestore.medianSeconds)}
          detail={
            `median; p90 ${duration(timeToRestore.p90Seconds)} over ${timeToRestore.count}` +
            (timeToRestore.unrestored ? `; ${timeToRestore.unrestored} not restored yet` : '')
          }
          band={timeToRestore.band}
        />
      </div>
      <div className="insights-charts">
        <DayChart
          title="Succeeded deployments per day"
          series={insights.series}
          value={(day) => day.deployments}
          unit="deployments"
        />
        <DayChart
          title="Lead time (median, hours)"
          series={insights.series}
          value={(day) => hours(day.leadTimeMedianSeconds)}
          unit="hours"
        />
        <DayChart
          title="Change failure rate per day (%)"
          series={insights.series}
          value={(day) => (day.finished ? (day.failures / day.finished) * 100 : null)}
          unit="%"
        />
        <DayChart
          title="Time to restore (median, hours)"
          series={insights.series}
          value={(day) => hours(day.restoreMedianSeconds)}
          unit="hours"
        />
      </div>
      <Section title="By day">
        <table className="insights-table">
          <caption className="muted">
            {insights.envs.length ? insights.envs.join(', ') : 'no environment you may read'}, UTC days from{' '}
            {insights.since.slice(0, 10)} to {insights.until.slice(0, 10)}
          </caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Succeeded</th>
              <th scope="col">Finished</th>
              <th scope="col">Failed changes</th>
              <th scope="col">Lead time (median)</th>
              <th scope="col">Time to restore (median)</th>
            </tr>
          </thead>
          <tbody>
            {[...insights.series].reverse().map((day) => (
              <tr key={day.date}>
                <td>{day.date}</td>
                <td>{day.deployments}</td>
                <td>{day.finished}</td>
                <td>{day.failures}</td>
                <td>{duration(day.leadTimeMedianSeconds)}</td>
                <td>{duration(day.restoreMedianSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}

/** One measure: its figure, what it is made of, and its band as a badge. */
function Measure(props: { title: string; value: string; detail: string; band: DoraBand | null }) {
  return (
    <section className="insights-card" aria-label={props.title}>
      <h2>{props.title}</h2>
      <p className="insights-value">
        {props.value} <BandBadge band={props.band} />
      </p>
      <p className="muted">{props.detail}</p>
    </section>
  );
}

/** A DORA band as a badge; "no data" without one. */
function BandBadge({ band }: { band: DoraBand | null }) {
  return <span className={`band band-${band ?? 'none'}`}>{band ?? 'no data'}</span>;
}

/** A line chart of one figure by day (uPlot); days without a value leave a gap. */
function DayChart(props: {
  title: string;
  series: readonly InsightsDay[];
  value: (day: InsightsDay) => number | null;
  unit: string;
}) {
  const container = useRef<HTMLDivElement | null>(null);
  const { series, value, title, unit } = props;
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const xs = series.map((day) => Date.parse(`${day.date}T00:00:00Z`) / 1000);
    const ys = series.map((day) => value(day));
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth || 420),
        height: 180,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
        series: [{}, { label: unit, stroke: '#3358d4', width: 2, points: { show: true, size: 4 } }],
        axes: [{}, { size: 50 }],
      },
      [xs, ys],
      element,
    );
    return () => chart.destroy();
  }, [series, value, unit]);
  return (
    <figure className="insights-chart">
      <figcaption>{title}</figcaption>
      <div ref={container} role="img" aria-label={`${title}, by day; the table below has the numbers`} />
    </figure>
  );
}

function hours(seconds: number | null): number | null {
  return seconds === null ? null : Math.round((seconds / 3600) * 100) / 100;
}

/** Seconds for people: `45s`, `12m`, `3.5h`, `2.1d`; `—` without a value. */
function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `${Number((seconds / 3600).toFixed(1))}h`;
  return `${Number((seconds / 86_400).toFixed(1))}d`;
}
