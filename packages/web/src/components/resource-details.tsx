import { useState } from 'react';
import type { ResourceCheck, ResourceGraph } from '@pave/core';
import { ApiError } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, Time, useLoad } from './common.tsx';

type GraphNode = ResourceGraph['nodes'][number];

/**
 * One resource of the graph: its type, class, id, the definition that matched it, its driver, its outputs
 * (secret outputs by name only: the API never sends their values) and its status, with a check by its
 * driver on request.
 */
export function ResourceDetails({
  session,
  app,
  env,
  node,
}: {
  session: Session;
  app: string;
  env: string;
  node: GraphNode;
}) {
  // A built-in resource or one not provisioned yet has no record to fetch.
  const stored = node.provisioned && !node.builtIn;
  const resource = useLoad(
    () => (stored ? session.client.getResource(app, env, node.address) : Promise.resolve(undefined)),
    [app, env, node.address, stored],
  );
  const [check, setCheck] = useState<ResourceCheck | 'none' | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<unknown>(null);
  const detail = resource.data;
  const missing = resource.error instanceof ApiError && resource.error.status === 404;
  const outputs = Object.entries(detail?.values ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const runCheck = async () => {
    setChecking(true);
    setCheckError(null);
    try {
      const path = `/apps/${encodeURIComponent(app)}/envs/${encodeURIComponent(env)}/resources/check`;
      const result = await session.client.request<{ items: ResourceCheck[] }>('GET', path);
      setCheck(result.items.find((item) => item.address === node.address) ?? 'none');
    } catch (e) {
      setCheckError(e);
    } finally {
      setChecking(false);
    }
  };

  const status = node.builtIn
    ? 'built in: Pave provides it, nothing is provisioned'
    : !node.provisioned || missing
      ? 'not provisioned yet: the next deployment creates it'
      : 'provisioned';

  return (
    <div className="resource-details">
      <dl>
        <dt>Type</dt>
        <dd>{node.type}</dd>
        <dt>Class</dt>
        <dd>{node.class}</dd>
        <dt>Id</dt>
        <dd>
          <code>{node.resId}</code>
          {node.shared ? ' (shared)' : ''}
        </dd>
        <dt>Definition</dt>
        <dd>{node.definitionId ?? (node.builtIn ? 'built in' : 'none matched yet')}</dd>
        <dt>Driver</dt>
        <dd>{detail ? detail.driver : stored && !resource.error ? 'Loading…' : '-'}</dd>
        <dt>Status</dt>
        <dd>
          {status}
          {detail && (
            <>
              {' '}
              (updated <Time at={detail.updatedAt} />)
            </>
          )}
        </dd>
        <dt>Used by</dt>
        <dd>{node.consumers.map((c) => `${c.workload} (as ${c.name})`).join(', ') || 'no workload'}</dd>
        {node.dependsOn.length > 0 && (
          <>
            <dt>Depends on</dt>
            <dd>{node.dependsOn.join(', ')}</dd>
          </>
        )}
      </dl>
      {!missing && <ErrorMessage error={resource.error} />}
      {detail && (
        <>
          <h4>Outputs</h4>
          {outputs.length === 0 && detail.secrets.length === 0 ? (
            <p className="muted">No outputs.</p>
          ) : (
            <ul className="resource-outputs" aria-label="Outputs">
              {outputs.map(([name, value]) => (
                <li key={name}>
                  <code>{name}</code> = <code className="value">{value}</code>
                </li>
              ))}
              {detail.secrets.map((name) => (
                <li key={name}>
                  <code>{name}</code> <span className="badge">secret, hidden</span>
                </li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => void runCheck()} disabled={checking}>
            {checking ? 'Checking…' : 'Check with its driver'}
          </button>
          <div role="status">
            {check === 'none' && <p className="muted">The check did not report this resource.</p>}
            {check && check !== 'none' && (
              <p className={check.status === 'ok' ? 'state-ready' : 'error'}>
                {check.status === 'ok' ? 'OK: it exists as recorded.' : `${check.status}: ${check.detail}`}
              </p>
            )}
          </div>
          <ErrorMessage error={checkError} />
        </>
      )}
      <Command>{`pave resources get ${node.address} --app ${app} --env ${env}`}</Command>
    </div>
  );
}
