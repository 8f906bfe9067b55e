import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { ErrorMessage, useLoad } from '../components/common.tsx';
import { AppTabs } from '../components/app-tabs.tsx';
import { accessTargetOf, useEnvTypes } from '../components/env-types.ts';
import { ArtifactsPanel } from '../components/artifacts-panel.tsx';
import { RulesPanel } from '../components/rules-panel.tsx';
import type { DeployTarget } from '../components/deploy-artifact-dialog.tsx';

/**
 * An app's delivery (`#/apps/<app>/delivery`): the build artifacts CI pushed, newest first, each with a
 * "Deploy…" button for those who may deploy it somewhere, and the automation rules that deploy the artifacts
 * of a branch when they are pushed, with a form that creates one and a Delete button each for those who may.
 */
export function DeliveryPage({ session, app }: { session: Session; app: string }) {
  const detail = useLoad(() => session.client.getApp(app), [session, app]);
  // Whether each type is restricted (deploying there needs `deployer` on it) or requires approval.
  const envTypes = useEnvTypes(session);

  // The environments the user may deploy to, as the server decides it; undefined until the types are known,
  // so that nothing is offered that may be refused.
  const environments: DeployTarget[] | undefined =
    detail.data && envTypes.data
      ? detail.data.environments.map((env) => {
          const target = accessTargetOf(app, env.type, envTypes.data);
          return {
            id: env.id,
            type: env.type,
            requiresApproval: envTypes.data?.items.find((t) => t.id === env.type)?.requiresApproval ?? false,
            mayDeploy: target !== undefined && session.can('deployment.create', target),
          };
        })
      : undefined;
  const deployTargets = environments?.filter((env) => env.mayDeploy);

  return (
    <>
      <p className="breadcrumbs">
        <a href={href('apps')}>← All apps</a>
      </p>
      <div className="page-head">
        <h1>{app}</h1>
      </div>
      <AppTabs app={app} current="delivery" />
      {detail.error && !detail.data ? (
        // Without the app (not found, not allowed), its artifacts and rules fail alike: say why once.
        <ErrorMessage error={detail.error} />
      ) : session.can('artifact.read', { app }) ? (
        <>
          <ErrorMessage error={envTypes.error} />
          <ArtifactsPanel session={session} app={app} deployTargets={deployTargets} />
          <RulesPanel session={session} app={app} environments={environments} deployTargets={deployTargets} />
        </>
      ) : (
        <p className="muted">
          You may not see the build artifacts and rules of {app}: that needs a role on the app (viewer,
          developer or owner).
        </p>
      )}
    </>
  );
}
