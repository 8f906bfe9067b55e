import { useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Deployment, DeploymentPlan, SetDiff } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, Confirm, ErrorMessage, Time } from './common.tsx';
import { SetDiffView } from './deployment-diff.tsx';
import { describeKind } from './deployment-history.tsx';

/**
 * The deployment a plain rollback returns to, as the server chooses it: the newest successful deployment
 * before the current one that ran another set, or the same set with other values. Undefined when there is
 * none among `deployments` (newest first).
 */
export function rollbackTarget(
  deployments: readonly Deployment[],
  current: Deployment | null | undefined,
): Deployment | undefined {
  return deployments.find(
    (d) =>
      d.status === 'succeeded' &&
      d.setId !== null &&
      (!current ||
        (Number(d.id) < Number(current.id) &&
          (d.setId !== current.setId || (d.valuesVersion ?? 0) !== (current.valuesVersion ?? 0)))),
  );
}

/** A Confirm that Escape cancels and that gives focus back to the button that opened it. */
function PlanDialog({
  title,
  confirmLabel,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
    }
  };
  return (
    <div onKeyDown={onKeyDown}>
      <Confirm title={title} confirmLabel={confirmLabel} onConfirm={onConfirm} onCancel={onClose}>
        {children}
      </Confirm>
    </div>
  );
}

/**
 * Rollback: shows which deployment it returns to and the diff from the current one (GET …/diff), and only
 * on confirmation POSTs …/rollback naming that deployment, so what runs is what was shown. It returns to `to`
 * when given (`pave rollback N`), else to the deployment a plain rollback returns to.
 */
export function RollbackAction({
  session,
  app,
  env,
  deployments,
  current,
  ready,
  to,
  onQueued,
}: {
  session: Session;
  app: string;
  env: string;
  deployments: readonly Deployment[];
  current: Deployment | null;
  /** Whether `deployments` and `current` are loaded: until then the target is unknown. */
  ready: boolean;
  /** The deployment to return to, instead of the one a plain rollback returns to. */
  to?: Deployment | undefined;
  onQueued: (deployment: Deployment) => void;
}) {
  const [plan, setPlan] = useState<{ target: Deployment; diff: SetDiff } | null>(null);
  const [busy, setBusy] = useState<'planning' | 'queueing' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const button = useRef<HTMLButtonElement>(null);
  const target = ready ? (to ?? rollbackTarget(deployments, current)) : undefined;

  const open = async () => {
    if (!target) return;
    setBusy('planning');
    setError(null);
    try {
      const diff = current
        ? await session.client.diff(app, env, { from: current.id, to: target.id })
        : await session.client.diff(app, env, { to: target.id });
      setPlan({ target, diff });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const close = () => {
    setPlan(null);
    button.current?.focus();
  };
  const confirm = async () => {
    if (!plan) return;
    const { target: chosen } = plan;
    close();
    setBusy('queueing');
    try {
      onQueued(await session.client.rollback(app, env, { deploymentId: chosen.id }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="action">
      <button
        ref={button}
        type="button"
        className="danger"
        disabled={!target || busy !== null}
        onClick={() => void open()}
        title={
          target
            ? `Roll back to deployment #${target.id}`
            : ready
              ? 'No earlier successful deployment to return to'
              : 'Loading the deployments…'
        }
      >
        {busy === 'planning'
          ? 'Planning…'
          : busy === 'queueing'
            ? 'Rolling back…'
            : to
              ? `Roll back to #${to.id}`
              : 'Rollback'}
      </button>
      <ErrorMessage error={error} />
      {plan && (
        <PlanDialog
          title={`Roll back ${app}/${env} to deployment #${plan.target.id}?`}
          confirmLabel={`Roll back to #${plan.target.id}`}
          onConfirm={() => void confirm()}
          onClose={close}
        >
          <p>
            Returns to deployment <strong>#{plan.target.id}</strong> ({describeKind(plan.target)},{' '}
            <Time at={plan.target.createdAt} />
            {plan.target.message ? `: ${plan.target.message}` : ''}): its workloads and values are deployed
            again as a new deployment.
            {current && ` Now running: deployment #${current.id}.`}
          </p>
          <SetDiffView diff={plan.diff} title="Changes from" />
          <Command>{`pave rollback ${plan.target.id} --app ${app} --env ${env}`}</Command>
        </PlanDialog>
      )}
    </div>
  );
}

/**
 * Promote another environment's current set into this one: POSTs a plan first (`plan: true`) and shows it,
 * and deploys only on confirmation.
 */
export function PromoteAction({
  session,
  app,
  env,
  sources,
  source,
  onSourceChange,
  onQueued,
}: {
  session: Session;
  app: string;
  env: string;
  /** The app's other environments. */
  sources: readonly string[];
  /** The one of `sources` to promote from, as picked (the page's CLI hint names it too). */
  source: string;
  onSourceChange: (source: string) => void;
  onQueued: (deployment: Deployment) => void;
}) {
  const [plan, setPlan] = useState<{ from: string; plan: DeploymentPlan } | null>(null);
  const [busy, setBusy] = useState<'planning' | 'queueing' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const button = useRef<HTMLButtonElement>(null);

  if (sources.length === 0) return null;
  const open = async () => {
    setBusy('planning');
    setError(null);
    try {
      const answer = await session.client.createDeployment(app, env, { fromEnv: source, plan: true });
      setPlan({ from: source, plan: answer as DeploymentPlan });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const close = () => {
    setPlan(null);
    button.current?.focus();
  };
  const confirm = async () => {
    if (!plan) return;
    const chosen = plan.from;
    close();
    setBusy('queueing');
    try {
      onQueued((await session.client.createDeployment(app, env, { fromEnv: chosen })) as Deployment);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="action promote">
      <label>
        Promote from
        <select value={source} onChange={(e) => onSourceChange(e.target.value)}>
          {sources.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <button ref={button} type="button" disabled={busy !== null} onClick={() => void open()}>
        {busy === 'planning' ? 'Planning…' : busy === 'queueing' ? 'Promoting…' : 'Promote'}
      </button>
      <ErrorMessage error={error} />
      {plan && (
        <PlanDialog
          title={`Promote ${plan.from} into ${env}?`}
          confirmLabel={`Promote ${plan.from} to ${env}`}
          onConfirm={() => void confirm()}
          onClose={close}
        >
          <p>
            Deploys {plan.from}&apos;s current set (<code>{plan.plan.setId.slice(0, 12)}</code>, workloads{' '}
            {plan.plan.workloads.join(', ') || 'none'}) to {app}/{env}.
          </p>
          <SetDiffView diff={plan.plan.diff} title="Changes from" />
          {plan.plan.resources.length > 0 && (
            <table aria-label="Resource changes">
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Type</th>
                  <th scope="col">Action</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {plan.plan.resources.map((r) => (
                  <tr key={r.address}>
                    <td>{r.address}</td>
                    <td>{r.type}</td>
                    <td>{r.action}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Command>{`pave promote --app ${app} --from ${plan.from} --to ${env}`}</Command>
        </PlanDialog>
      )}
    </div>
  );
}
