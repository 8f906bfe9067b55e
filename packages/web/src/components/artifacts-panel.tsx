import { useEffect, useRef, useState } from 'react';
import type { Artifact, Deployment } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { Command, ErrorMessage, MorePages, Section, Time, usePages } from './common.tsx';
import { DeployArtifactDialog, type DeployTarget } from './deploy-artifact-dialog.tsx';

/** How often the artifacts shown are fetched again while the page is open: CI pushes new ones. */
const POLL_MS = 10_000;

/**
 * An app's build artifacts, newest first, a page at a time (`pave artifacts list`). With `deployTargets` not
 * empty (the environments the user may deploy to), each has a "Deploy…" button that asks where to and then
 * deploys it there (`pave deploy --artifact`); the page then says which deployment it made.
 */
export function ArtifactsPanel({
  session,
  app,
  deployTargets,
}: {
  session: Session;
  app: string;
  /** Undefined while unknown: no button is offered until then. */
  deployTargets: readonly DeployTarget[] | undefined;
}) {
  // Fetched again every few seconds (keepDepth: the pages the user loaded stay), so a push shows up.
  const artifacts = usePages(
    (cursor) => session.client.listArtifacts(app, cursor ? { cursor } : {}),
    [session, app],
    { keepDepth: true },
  );
  const reload = useRef(artifacts.reload);
  reload.current = artifacts.reload;
  useEffect(() => {
    const timer = window.setInterval(() => reload.current(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [session, app]);
  const [deploying, setDeploying] = useState<Artifact | null>(null);
  const [deployed, setDeployed] = useState<{ deployment: Deployment; artifact: Artifact } | null>(null);
  // The button that opened the dialog, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = artifacts.items ?? [];
  const mayDeploy = (deployTargets ?? []).length > 0;

  return (
    <Section title="Artifacts">
      <ErrorMessage error={artifacts.error} />
      {!artifacts.items && !artifacts.error && <p className="loading">Loading artifacts…</p>}
      {artifacts.items?.length === 0 && (
        <p className="muted">
          No artifacts yet: CI registers them with <code>pave artifacts push</code>.
        </p>
      )}
      {deployed && <DeployedNotice app={app} {...deployed} />}
      {items.length > 0 && (
        <table aria-label="Artifacts">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Commit</th>
              <th scope="col">Workloads</th>
              <th scope="col">Image</th>
              <th scope="col">Pushed by</th>
              <th scope="col">When</th>
              {mayDeploy && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((artifact) => (
              <tr key={artifact.id}>
                <th scope="row" className="row-head">
                  {artifact.id}
                </th>
                <td>
                  <code title={artifact.commit}>{artifact.commit.slice(0, 12)}</code>
                  {artifact.branch && (
                    <div className="hint">
                      on <code>{artifact.branch}</code>
                    </div>
                  )}
                </td>
                <td>{artifact.workloads.join(', ')}</td>
                <td>{artifact.image ? <code>{artifact.image}</code> : <span className="muted">-</span>}</td>
                <td>{artifact.createdBy}</td>
                <td>
                  <Time at={artifact.createdAt} />
                </td>
                {mayDeploy && (
                  <td>
                    <button
                      type="button"
                      aria-label={`Deploy artifact ${artifact.id}`}
                      onClick={(event) => {
                        opener.current = event.currentTarget;
                        setDeployed(null);
                        setDeploying(artifact);
                      }}
                    >
                      Deploy…
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MorePages pages={artifacts} label="More artifacts" />
      <Command>{`pave artifacts list --app ${app}`}</Command>
      {deploying && deployTargets && (
        <DeployArtifactDialog
          session={session}
          app={app}
          artifact={deploying}
          targets={deployTargets}
          onDeployed={(deployment) => {
            setDeploying(null);
            setDeployed({ deployment, artifact: deploying });
          }}
          onCancel={() => {
            setDeploying(null);
            opener.current?.focus();
          }}
        />
      )}
    </Section>
  );
}

/** What a deployment of an artifact made: queued (or awaiting approval), with a link to its environment. */
function DeployedNotice({
  app,
  deployment,
  artifact,
}: {
  app: string;
  deployment: Deployment;
  artifact: Artifact;
}) {
  const env = <a href={href('apps', app, 'envs', deployment.envId)}>{deployment.envId}</a>;
  return (
    <p className="notice" role="status">
      {deployment.status === 'awaiting-approval' ? (
        <>
          Deployment #{deployment.id} of artifact {artifact.id} to {env} awaits approval: someone else must
          approve it before it runs.
        </>
      ) : (
        <>
          Deployment #{deployment.id} of artifact {artifact.id} to {env} is {deployment.status}.
        </>
      )}
    </p>
  );
}
