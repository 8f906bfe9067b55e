import type { HealthStatus } from '@pave/core';
import './health-badge.css';

/**
 * A health as a coloured badge (degraded in red), with why it is not healthy as its tooltip; `showDetail`
 * also writes the reason under it, so a crash-looping workload is seen without hovering.
 */
export function HealthBadge({
  health,
  detail,
  showDetail = false,
}: {
  health: HealthStatus | undefined;
  detail?: string | undefined;
  showDetail?: boolean;
}) {
  const shown = health ?? 'unknown';
  return (
    <>
      <span className={`health health-${shown}`} title={detail}>
        {shown}
      </span>
      {showDetail && detail && <span className="health-detail">{detail}</span>}
    </>
  );
}
