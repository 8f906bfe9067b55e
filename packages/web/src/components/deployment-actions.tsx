import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import {
  ApiError,
  type Deployment,
  type DeploymentPlan,
  type PolicyOverride,
  type SetDiff,
  type ValuesDiff,
} from '@pave/core';
import type { Session } from '../session.ts';
import { Command, Confirm, ErrorMessage, Time, shellWord } from './common.tsx';
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

/** The ids of the policies a refusal names (HTTP 422, a problem at `policies/<id>` each); none for other errors. */
export function deniedPolicies(error: unknown): string[] {
  if (!(error instanceof ApiError) || error.status !== 422) return [];
  const ids = (error.problem.errors ?? []).flatMap((problem) => {
    const match = /^\/?policies\/(.+)$/u.exec(problem.path);
    return match ? [match[1]!] : [];
  });
  return [...new Set(ids)];
}

/**
 * What a rollback or a promotion sends besides what it deploys, as the CLI's flags say it: a message, and
 * the denying policies an org admin lets it through, with the reason.
 */
interface DeployNote {
  message: string;
  /** The policies to override; empty unless a refusal named them and an org admin gave a reason. */
  overrides: string[];
  reason: string;
}

const NO_NOTE: DeployNote = { message: '', overrides: [], reason: '' };

/** The body fields of `note`: `message` when one is typed, `overridePolicies` when there is a reason. */
function noteFields(note: DeployNote): { message?: string; overridePolicies?: PolicyOverride[] } {
  const message = note.message.trim();
  const reason = note.reason.trim();
  return {
    ...(message ? { message } : {}),
    ...(note.overrides.length > 0 && reason
      ? { overridePolicies: note.overrides.map((id) => ({ id, reason })) }
      : {}),
  };
}

/** The CLI flags of `note`, e.g. ` -m 'release 42' --override-policy no-latest --reason 'hotfix'`. */
function noteFlags(note: DeployNote): string {
  const { message, overridePolicies } = noteFields(note);
  return (
    (message ? ` -m ${shellWord(message)}` : '') +
    (overridePolicies
      ? overridePolicies.map((o) => ` --override-policy ${shellWord(o.id)}`).join('') +
        ` --reason ${shellWord(overridePolicies[0]!.reason)}`
      : '')
  );
}

/**
 * The message field of a rollback's or a promotion's dialog and, once policies refused it and the user acts as
 * an org admin (who alone may), the reason that lets it through them: sent with the next try, recorded on the
 * deployment and audited, as `--override-policy ID --reason TEXT`.
 */
function NoteFields({
  session,
  note,
  onChange,
}: {
  session: Session;
  note: DeployNote;
  onChange: (note: DeployNote) => void;
}) {
  const id = useId();
  return (
    <>
      <label>
        Message (optional)
        <input
          name="message"
          value={note.message}
          maxLength={1000}
          autoComplete="off"
          placeholder="why: shown in the history and the audit log"
          onChange={(event) => onChange({ ...note, message: event.target.value })}
        />
      </label>
      {note.overrides.length > 0 && session.isOrgAdmin() && (
        <label>
          <span>
            Override {note.overrides.length === 1 ? 'policy' : 'policies'}{' '}
            <strong>{note.overrides.join(', ')}</strong>: why (recorded on the deployment and audited)
          </span>
          <input
            name="override-reason"
            value={note.reason}
            maxLength={1000}
            autoComplete="off"
            aria-describedby={`${id}-override-hint`}
            onChange={(event) => onChange({ ...note, reason: event.target.value })}
          />
          <span id={`${id}-override-hint`} className="hint">
            As an org admin you may let it through: give a reason, then try again.
          </span>
        </label>
      )}
    </>
  );
}

/** `note` with the policies `error` names to override (once a refusal names them); unchanged otherwise. */
function withDenied(note: DeployNote, error: unknown): DeployNote {
  const denied = deniedPolicies(error);
  return denied.length > 0 ? { ...note, overrides: denied } : note;
}

/**
 * What a rollback to `target` does to the values set since the running deployment, which are not deployed yet
 * (undefined when none are, judged by content: a rollback stores the values it restores as a new version,
 * and the same values under another number are no change): `restore`, the rollback sets the values back to
 * `target`'s version, so those go too, and `keys` says how what is set now changes (`removed`: set now, not in
 * that version); `keep`, `target` ran with no values, so the rollback runs without any and restores none:
 * what is set stays for the next deployment. Undefined too when the user may not read the values (the
 * diff of the two deployments then says what it can).
 */
type UndeployedValues =
  | {
      kind: 'restore';
      /** The version set now, and the one the rollback sets again. */
      now: number;
      restored: number;
      keys: Array<{ key: string; change: 'added' | 'removed' | 'changed'; secret: boolean }>;
    }
  | { kind: 'keep'; now: number };

async function undeployedValues(
  session: Session,
  app: string,
  env: string,
  current: Deployment | null,
  target: Deployment,
): Promise<UndeployedValues | undefined> {
  if (!session.can('values.read', { app })) return undefined;
  const changed = (diff: ValuesDiff) => diff.keys.filter((key) => key.change !== 'unchanged');
  try {
    // What was set since the running deployment ran: nothing, and there is nothing to say.
    const since = await session.client.valuesDiff(app, env, { from: current?.valuesVersion ?? 0 });
    if (changed(since).length === 0) return undefined;
    if (target.valuesVersion === null) return { kind: 'keep', now: since.to };
    const diff = await session.client.valuesDiff(app, env, { from: target.valuesVersion });
    const keys = changed(diff).map((key) => ({
      key: key.key,
      // From what is set now to the restored version: the diff's direction turned round.
      change:
        key.change === 'added'
          ? ('removed' as const)
          : key.change === 'removed'
            ? ('added' as const)
            : ('changed' as const),
      secret: key.secret,
    }));
    return { kind: 'restore', now: diff.to, restored: target.valuesVersion, keys };
  } catch {
    // The plan stands without it: the set's diff still says what the rollback deploys.
    return undefined;
  }
}

/** Says what the rollback does to the values set since the running deployment. */
function UndeployedValuesNotice({
  values,
  current,
  target,
}: {
  values: UndeployedValues;
  current: Deployment | null;
  target: Deployment;
}) {
  const since = `The values were changed after ${current ? `deployment #${current.id} ran` : 'the last deployment'} (they are at version ${values.now} now).`;
  return (
    <div className="notice" role="note" aria-label="Values set since the running deployment">
      {values.kind === 'keep' ? (
        <p>
          {since} Deployment #{target.id} ran with no values: the rollback runs without any and changes none,
          so they stay set for the next deployment.
        </p>
      ) : (
        <>
          <p>
            {since} The rollback sets them back to version {values.restored}, the one deployment #{target.id}{' '}
            ran with, so it also changes what is set now
            {values.keys.length === 0 ? ' in no key.' : ':'}
          </p>
          {values.keys.length > 0 && (
            <ul>
              {values.keys.map((key) => (
                <li key={key.key}>
                  <code>{key.key}</code> {key.change}
                  {key.secret ? ' (secret)' : ''}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

/** A Confirm that Escape cancels and that gives focus back to the button that opened it. */
function PlanDialog({
  title,
  confirmLabel,
  confirmDisabled = false,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  confirmDisabled?: boolean;
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
      <Confirm
        title={title}
        confirmLabel={confirmLabel}
        confirmDisabled={confirmDisabled}
        onConfirm={onConfirm}
        onCancel={onClose}
      >
        {children}
      </Confirm>
    </div>
  );
}

/**
 * Rollback: shows which deployment it returns to and the diff from the current one (GET …/diff), and only
 * on confirmation POSTs …/rollback naming that deployment, so what runs is what was shown. It returns to `to`
 * when given (`pave rollback N`), else to the deployment a plain rollback returns to. The dialog takes a
 * message (`-m`) and stays open until the rollback is queued: a refusal stands in it, and one by policies
 * offers an org admin to override them with a reason.
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
  const [plan, setPlan] = useState<{
    target: Deployment;
    diff: SetDiff;
    values: UndeployedValues | undefined;
  } | null>(null);
  const [busy, setBusy] = useState<'planning' | 'queueing' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<DeployNote>(NO_NOTE);
  const button = useRef<HTMLButtonElement>(null);
  const target = ready ? (to ?? rollbackTarget(deployments, current)) : undefined;

  const open = async () => {
    if (!target) return;
    setBusy('planning');
    setError(null);
    setNote(NO_NOTE);
    try {
      const [diff, values] = await Promise.all([
        current
          ? session.client.diff(app, env, { from: current.id, to: target.id })
          : session.client.diff(app, env, { to: target.id }),
        undeployedValues(session, app, env, current, target),
      ]);
      setPlan({ target, diff, values });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  // Cancel and Escape; not while the rollback is being queued (it was sent): its outcome shows in the dialog.
  const close = () => {
    if (busy === 'queueing') return;
    setPlan(null);
    setError(null);
    button.current?.focus();
  };
  const confirm = async () => {
    if (!plan || busy) return;
    setBusy('queueing');
    setError(null);
    try {
      const queued = await session.client.rollback(app, env, {
        deploymentId: plan.target.id,
        ...noteFields(note),
      });
      setPlan(null);
      button.current?.focus();
      onQueued(queued);
    } catch (e) {
      setError(e);
      setNote((current) => withDenied(current, e));
    } finally {
      setBusy(null);
    }
  };
  const overriding = noteFields(note).overridePolicies !== undefined;

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
      {!plan && <ErrorMessage error={error} />}
      {plan && (
        <PlanDialog
          title={`Roll back ${app}/${env} to deployment #${plan.target.id}?`}
          confirmLabel={
            busy === 'queueing'
              ? 'Rolling back…'
              : `Roll back to #${plan.target.id}${overriding ? ', overriding' : ''}`
          }
          confirmDisabled={busy !== null}
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
          {plan.values && (
            <UndeployedValuesNotice values={plan.values} current={current} target={plan.target} />
          )}
          <NoteFields session={session} note={note} onChange={setNote} />
          <ErrorMessage error={error} />
          <Command>{`pave rollback ${plan.target.id} --app ${app} --env ${env}${noteFlags(note)}`}</Command>
        </PlanDialog>
      )}
    </div>
  );
}

/** What a promotion deletes besides deploying: `--prune` and `--allow-data-loss`. */
interface PruneChoice {
  prune: boolean;
  allowDataLoss: boolean;
}

/**
 * Promote another environment's current set into this one: POSTs a plan first (`plan: true`) and shows it in
 * a dialog, and deploys only on confirmation. The dialog plans again when the resources the set no longer uses
 * are to be deleted (`--prune`) and when data may be lost (`--allow-data-loss`: stateful resources pruned, or
 * replaced because their driver cannot change them in place), takes a message (`-m`), and stays open until
 * the promotion is queued. A refusal, of the plan or of the promotion, stands in it with
 * **Plan again**: one by policies offers an org admin to override them with a reason, planning again with it.
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
  // The open dialog: the source it promotes from, and its plan (null while it is refused).
  const [dialog, setDialog] = useState<{ from: string; plan: DeploymentPlan | null } | null>(null);
  const [busy, setBusy] = useState<'planning' | 'queueing' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<DeployNote>(NO_NOTE);
  const [pruning, setPruning] = useState<PruneChoice>({ prune: false, allowDataLoss: false });
  const button = useRef<HTMLButtonElement>(null);
  // The number of the latest plan: the answer of an older one, or of one whose dialog was closed, is dropped.
  const latestPlan = useRef(0);
  // Set when the dialog closes: the Promote button gets the focus back once it is enabled again.
  const refocus = useRef(false);
  useEffect(() => {
    if (dialog || busy || !refocus.current) return;
    refocus.current = false;
    button.current?.focus();
  }, [dialog, busy]);

  if (sources.length === 0) return null;
  const pruneFields = (choice: PruneChoice) => ({
    ...(choice.prune ? { prune: true } : {}),
    ...(choice.allowDataLoss ? { allowDataLoss: true } : {}),
  });
  // Plans promoting `from` with `choice` and `withNote`: the dialog opens with the plan or, when it is refused,
  // with the refusal, as what it offers may answer it (--prune, --allow-data-loss, a policy override).
  const plan = async (from: string, choice: PruneChoice, withNote: DeployNote) => {
    const ticket = ++latestPlan.current;
    setBusy('planning');
    setError(null);
    const { overridePolicies } = noteFields(withNote);
    try {
      const answer = await session.client.createDeployment(app, env, {
        fromEnv: from,
        plan: true,
        ...pruneFields(choice),
        ...(overridePolicies ? { overridePolicies } : {}),
      });
      if (ticket !== latestPlan.current) return;
      setDialog({ from, plan: answer as DeploymentPlan });
    } catch (e) {
      if (ticket !== latestPlan.current) return;
      setError(e);
      setDialog({ from, plan: null });
      // What was typed while the plan ran is kept.
      setNote((current) => withDenied(current, e));
    } finally {
      if (ticket === latestPlan.current) setBusy(null);
    }
  };
  const open = () => {
    const fresh = { prune: false, allowDataLoss: false };
    setPruning(fresh);
    setNote(NO_NOTE);
    void plan(source, fresh, NO_NOTE);
  };
  const choose = (choice: PruneChoice) => {
    if (!dialog) return;
    setPruning(choice);
    void plan(dialog.from, choice, note);
  };
  // Cancel and Escape: a plan under way is dropped; a promotion under way is not (it was sent), and its
  // outcome is shown in the dialog, which stays until it comes.
  const close = () => {
    if (busy === 'queueing') return;
    latestPlan.current++;
    refocus.current = true;
    setBusy(null);
    setDialog(null);
    setError(null);
  };
  const confirm = async () => {
    if (!dialog || busy) return;
    if (!dialog.plan) {
      await plan(dialog.from, pruning, note);
      return;
    }
    setBusy('queueing');
    setError(null);
    try {
      const queued = await session.client.createDeployment(app, env, {
        fromEnv: dialog.from,
        ...pruneFields(pruning),
        ...noteFields(note),
      });
      refocus.current = true;
      setDialog(null);
      onQueued(queued as Deployment);
    } catch (e) {
      setError(e);
      if (deniedPolicies(e).length > 0) {
        setDialog((current) => current && { ...current, plan: null });
        setNote((current) => withDenied(current, e));
      }
    } finally {
      setBusy(null);
    }
  };
  const overriding = noteFields(note).overridePolicies !== undefined;
  const flags =
    (pruning.prune ? ' --prune' : '') + (pruning.allowDataLoss ? ' --allow-data-loss' : '') + noteFlags(note);
  const label = (from: string) =>
    busy === 'queueing'
      ? 'Promoting…'
      : busy === 'planning'
        ? 'Planning…'
        : dialog?.plan
          ? `Promote ${from} to ${env}${overriding ? ', overriding' : ''}`
          : `Plan again${overriding ? ', overriding' : ''}`;

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
      <button ref={button} type="button" disabled={busy !== null} onClick={open}>
        {busy === 'planning' && !dialog ? 'Planning…' : busy === 'queueing' ? 'Promoting…' : 'Promote'}
      </button>
      {dialog && (
        <PlanDialog
          title={`Promote ${dialog.from} into ${env}?`}
          confirmLabel={label(dialog.from)}
          confirmDisabled={busy !== null}
          onConfirm={() => void confirm()}
          onClose={close}
        >
          {dialog.plan ? (
            <PromotionPlan app={app} env={env} from={dialog.from} plan={dialog.plan} />
          ) : (
            <p>
              Would deploy {dialog.from}&apos;s current set to {app}/{env}, but it is refused: see below.
            </p>
          )}
          <label className="checkbox">
            <input
              type="checkbox"
              name="prune"
              checked={pruning.prune}
              disabled={busy !== null}
              onChange={(event) => choose({ ...pruning, prune: event.target.checked })}
            />
            Delete the resources of {env} that the promoted set no longer uses
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              name="allow-data-loss"
              checked={pruning.allowDataLoss}
              disabled={busy !== null}
              onChange={(event) => choose({ ...pruning, allowDataLoss: event.target.checked })}
            />
            Accept losing data (postgres, redis, volumes): with the box above those are deleted too, and one
            whose driver cannot change it in place is replaced, empty
          </label>
          <NoteFields session={session} note={note} onChange={setNote} />
          <ErrorMessage error={error} />
          <Command>{`pave promote --app ${app} --from ${dialog.from} --to ${env}${flags}`}</Command>
        </PlanDialog>
      )}
    </div>
  );
}

/** What a promotion would do: the set it deploys, the workload changes, and what happens to each resource. */
function PromotionPlan({
  app,
  env,
  from,
  plan,
}: {
  app: string;
  env: string;
  from: string;
  plan: DeploymentPlan;
}) {
  return (
    <>
      <p>
        Deploys {from}&apos;s current set (<code>{plan.setId.slice(0, 12)}</code>, workloads{' '}
        {plan.workloads.join(', ') || 'none'}) to {app}/{env}.
      </p>
      <SetDiffView diff={plan.diff} title="Changes from" />
      {plan.resources.length > 0 && (
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
            {plan.resources.map((r) => (
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
    </>
  );
}
