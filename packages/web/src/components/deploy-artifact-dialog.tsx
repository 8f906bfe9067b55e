import { useRef, useState } from 'react';
import type { Artifact, Deployment } from '@pave/core';
import type { Session } from '../session.ts';
import { ConfirmAction } from './common.tsx';

/** An environment of the app, with what the Delivery view needs to know about deploying there. */
export interface DeployTarget {
  id: string;
  type: string;
  /** Whether its type makes every deployment wait for someone else's approval. */
  requiresApproval: boolean;
  /** Whether the user may deploy there (`deployment.create`; on a restricted type `deployer` on it too). */
  mayDeploy: boolean;
}

/**
 * Asks which environment to deploy an artifact to (of `targets`, those the user may deploy to) and deploys
 * it there on confirmation, as `pave deploy --artifact` does. `onDeployed` is told of the deployment queued
 * (or awaiting approval); a refusal stands in the dialog, which stays open.
 */
export function DeployArtifactDialog({
  session,
  app,
  artifact,
  targets,
  onDeployed,
  onCancel,
}: {
  session: Session;
  app: string;
  artifact: Artifact;
  targets: readonly DeployTarget[];
  onDeployed: (deployment: Deployment) => void;
  onCancel: () => void;
}) {
  const [picked, setPicked] = useState(targets[0]?.id ?? '');
  const env = targets.find((target) => target.id === picked) ?? targets[0];
  const envId = env?.id ?? 'ENV';
  const deployed = useRef<Deployment | null>(null);
  return (
    <ConfirmAction
      title={`Deploy artifact ${artifact.id}?`}
      confirmLabel="Deploy"
      busyLabel="Deploying…"
      action={async () => {
        if (!env) throw new Error('Choose an environment to deploy to.');
        // Without `plan`, the answer is the deployment asked for.
        deployed.current = (await session.client.createDeployment(app, env.id, {
          artifact: artifact.id,
        })) as Deployment;
      }}
      onDone={() => onDeployed(deployed.current!)}
      onCancel={onCancel}
      command={`pave deploy --artifact ${artifact.id} --app ${app} --env ${envId}`}
    >
      <p>
        Deploys the workloads of artifact <strong>{artifact.id}</strong> ({artifact.workloads.join(', ')};
        commit <code>{artifact.commit.slice(0, 12)}</code>
        {artifact.branch ? (
          <>
            {' '}
            on <code>{artifact.branch}</code>
          </>
        ) : null}
        )
        {artifact.image ? (
          <>
            {' '}
            with the image CI built, <code>{artifact.image}</code>
          </>
        ) : null}
        : they replace their namesakes in the environment, whose other workloads stay.
      </p>
      <label>
        Environment{' '}
        <select name="env" value={env?.id ?? ''} onChange={(event) => setPicked(event.target.value)}>
          {targets.map((target) => (
            <option key={target.id} value={target.id}>
              {target.id} ({target.type}
              {target.requiresApproval ? ', requires approval' : ''})
            </option>
          ))}
        </select>
      </label>
      {env?.requiresApproval && (
        <p className="hint">Deployments to {env.id} wait for someone else to approve them before they run.</p>
      )}
    </ConfirmAction>
  );
}
