import type { Deployment } from '@pave/core';
import './sync-status.css';

/**
 * How an environment's latest deployment went (its sync, apart from health), for people: `deployment #3
 * failed (previous set restored)`, `deployment #4 succeeded`, `deployment #5 running`.
 */
function describeSync(latest: Deployment): string {
  const restored = latest.status === 'failed' && latest.rolledBack ? ' (previous set restored)' : '';
  return `deployment #${latest.id} ${latest.status}${restored}`;
}

/**
 * An environment's latest deployment result, as `pave status --app` shows it beside health: its number and
 * status (failed in red, succeeded in green), why it failed as its tooltip, and "not deployed yet" when there
 * is none. `latest` undefined (a server from before sync was reported) shows nothing.
 */
export function SyncStatus({ latest }: { latest: Deployment | null | undefined }) {
  if (latest === undefined) return null;
  if (latest === null) return <span className="sync muted">not deployed yet</span>;
  return (
    <span className={`sync status-${latest.status}`} title={latest.reason ?? undefined}>
      {describeSync(latest)}
    </span>
  );
}
