import { useState } from 'react';
import type { Deployment, SetDiff } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, useLoad } from './common.tsx';

const ACTION_TEXT: Record<SetDiff['changes'][number]['action'], string> = {
  add: 'added',
  update: 'changed',
  remove: 'removed',
  keep: 'unchanged',
};

/**
 * What differs between two deployment sets: the per-workload changes, the values (a secret only says that
 * it changed), and the unified diff of the workloads' canonical YAML.
 */
export function SetDiffView({ diff, title }: { diff: SetDiff; title?: string }) {
  const changed = diff.changes.filter((c) => c.action !== 'keep');
  return (
    <div className="set-diff">
      <p>
        {title ?? 'From'} <strong>{diff.from.label}</strong> to <strong>{diff.to.label}</strong>:{' '}
        {changed.length === 0 && diff.values.length === 0
          ? 'nothing changes.'
          : `${changed.length} workload${changed.length === 1 ? '' : 's'} and ${diff.values.length} value${
              diff.values.length === 1 ? '' : 's'
            } change.`}
      </p>
      {diff.changes.length > 0 && (
        <table aria-label="Workload changes">
          <thead>
            <tr>
              <th scope="col">Workload</th>
              <th scope="col">Change</th>
              <th scope="col">Fields</th>
            </tr>
          </thead>
          <tbody>
            {diff.changes.map((change) => (
              <tr key={change.workload}>
                <td>{change.workload}</td>
                <td className={`change-${change.action}`}>{ACTION_TEXT[change.action]}</td>
                <td>
                  {change.fields.length ? (
                    change.fields.map((field) => (
                      <code key={field} className="field">
                        {field}
                      </code>
                    ))
                  ) : (
                    <span className="muted">-</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {diff.values.length > 0 && (
        <table aria-label="Value changes">
          <thead>
            <tr>
              <th scope="col">Value</th>
              <th scope="col">Change</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {diff.values.map((value) => (
              <tr key={value.key}>
                <td>
                  <code>{value.key}</code>
                </td>
                <td>{value.action}</td>
                {value.secret ? (
                  <td colSpan={2} className="muted">
                    {value.action === 'not-compared'
                      ? 'secret: not compared (comparing two environments’ secrets needs values.reveal on both)'
                      : 'secret: value not shown'}
                  </td>
                ) : (
                  <>
                    <td>{value.from ?? <span className="muted">-</span>}</td>
                    <td>{value.to ?? <span className="muted">-</span>}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {diff.unified.trim() ? <UnifiedDiff text={diff.unified} /> : null}
    </div>
  );
}

/** A unified diff in a <pre>, added lines green and removed lines red (with +/- kept for non-colour readers). */
function UnifiedDiff({ text }: { text: string }) {
  const lines = text.replace(/\n$/, '').split('\n');
  return (
    <pre className="unified-diff" aria-label="Unified diff" tabIndex={0}>
      {lines.map((line, index) => {
        const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line[0];
        const className =
          kind === '+' ? 'diff-add' : kind === '-' ? 'diff-del' : kind === '@' ? 'diff-hunk' : undefined;
        return (
          <span key={index} className={className}>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}

/** How a deployment is named in a list: `#12 rollback · succeeded`. */
export function deploymentLabel(deployment: Deployment): string {
  return `#${deployment.id} ${deployment.kind} · ${deployment.status}${
    deployment.message ? ` · ${deployment.message.slice(0, 40)}` : ''
  }`;
}

/**
 * Compare any two deployments of an environment: "From" and "To" selects (the two newest by default, until
 * the user picks), then GET …/diff?from=&to=.
 */
export function DeploymentDiff({
  session,
  app,
  env,
  deployments,
}: {
  session: Session;
  app: string;
  env: string;
  /** Newest first, as the API lists them. */
  deployments: Deployment[];
}) {
  // Only deployments that have a set can be compared (a queued one has none yet).
  const comparable = deployments.filter((d) => d.setId !== null);
  const [picked, setPicked] = useState<{ from: string; to: string } | null>(null);
  const from = picked?.from ?? comparable[1]?.id ?? '';
  const to = picked?.to ?? comparable[0]?.id ?? '';
  const ready = from !== '' && to !== '' && from !== to;
  const diff = useLoad(
    () => (ready ? session.client.diff(app, env, { from, to }) : Promise.resolve(undefined)),
    [app, env, from, to],
  );

  if (comparable.length < 2) {
    return <p className="muted">Two deployments are needed for a comparison.</p>;
  }
  const choose = (side: 'from' | 'to', value: string) => setPicked({ from, to, [side]: value });
  return (
    <div className="deployment-diff">
      <div className="diff-pickers">
        <label>
          From
          <select value={from} onChange={(e) => choose('from', e.target.value)}>
            {comparable.map((d) => (
              <option key={d.id} value={d.id}>
                {deploymentLabel(d)}
              </option>
            ))}
          </select>
        </label>
        <label>
          To
          <select value={to} onChange={(e) => choose('to', e.target.value)}>
            {comparable.map((d) => (
              <option key={d.id} value={d.id}>
                {deploymentLabel(d)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Command>{`pave diff ${from} ${to} --app ${app} --env ${env}`}</Command>
      {!ready ? (
        <p className="muted">Pick two different deployments.</p>
      ) : (
        <div aria-busy={!diff.data && !diff.error}>
          <ErrorMessage error={diff.error} />
          {diff.data ? <SetDiffView diff={diff.data} /> : !diff.error && <p className="muted">Comparing…</p>}
        </div>
      )}
    </div>
  );
}
