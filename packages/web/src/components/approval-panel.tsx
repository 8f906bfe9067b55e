import { useState } from 'react';
import { allPages, type AccessTarget, type Approval, type DeploymentDetail } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, Time, useLoad } from './common.tsx';
import { SetDiffView } from './deployment-diff.tsx';

/** How often the pending approval is fetched again (someone may ask for, or decide, one meanwhile). */
const APPROVALS_POLL_MS = 5000;

/**
 * The deployment of an environment awaiting approval, with what it would change, and (for those who may
 * decide it: deployment.approve on the environment's type, never its requester) Approve and Reject with a
 * comment, which a rejection requires. Nothing when no deployment awaits approval. `refreshKey` reloads it
 * (the page's deployments changed); `onDecided` tells the page the deployment's new state.
 */
export function ApprovalPanel({
  session,
  app,
  env,
  target,
  refreshKey,
  onDecided,
}: {
  session: Session;
  app: string;
  env: string;
  target: AccessTarget | undefined;
  refreshKey: string;
  onDecided: (deployment: DeploymentDetail, verb: 'approved' | 'rejected') => void;
}) {
  // The app's requests, every page: at most one per environment (a newer request supersedes the older).
  const approvals = useLoad(
    () => allPages((cursor) => session.client.listApprovals({ app, ...(cursor ? { cursor } : {}) })),
    [app, refreshKey],
    APPROVALS_POLL_MS,
  );
  const pending = approvals.data?.find((approval) => approval.deployment.envId === env);
  if (!pending) return <ErrorMessage error={approvals.error} />;
  return (
    <section aria-label="Pending approval" className="approval-panel">
      <div className="section-head">
        <h2>Pending approval</h2>
      </div>
      <PendingApproval
        key={pending.id}
        session={session}
        approval={pending}
        mayDecide={
          target !== undefined &&
          session.can('deployment.approve', target) &&
          !pending.requesters.includes(session.whoami.username)
        }
        onDecided={(deployment, verb) => {
          approvals.reload();
          onDecided(deployment, verb);
        }}
      />
    </section>
  );
}

/**
 * The values version the deployment runs with, pinned when it was asked for, and the one that runs now; nothing
 * when neither has values, or from a server that does not say (runningValuesVersion absent).
 */
function PinnedValues({ pinned, running }: { pinned: number | null; running: number | null | undefined }) {
  if (running === undefined || (pinned === null && running === null)) return null;
  const version = (number: number | null) => (number === null ? 'no values' : `values version ${number}`);
  return (
    <p className="muted">
      It runs with {version(pinned)}, pinned when it was asked for (
      {running === null
        ? 'nothing runs with values yet'
        : pinned === running
          ? 'as now'
          : `now: ${version(running)}`}
      ); values changed since then wait for the next deployment.
    </p>
  );
}

function PendingApproval({
  session,
  approval,
  mayDecide,
  onDecided,
}: {
  session: Session;
  approval: Approval;
  mayDecide: boolean;
  onDecided: (deployment: DeploymentDetail, verb: 'approved' | 'rejected') => void;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approving' | 'rejecting' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [missingComment, setMissingComment] = useState(false);
  const { deployment } = approval;

  const decide = (verb: 'approve' | 'reject') => {
    if (verb === 'reject' && comment.trim() === '') {
      setMissingComment(true);
      return;
    }
    setMissingComment(false);
    setError(null);
    setBusy(verb === 'approve' ? 'approving' : 'rejecting');
    const request =
      verb === 'approve'
        ? session.client.approveDeployment(approval.id, comment.trim() ? { comment: comment.trim() } : {})
        : session.client.rejectDeployment(approval.id, { comment: comment.trim() });
    request
      .then((detail) => onDecided(detail, verb === 'approve' ? 'approved' : 'rejected'))
      .catch(setError)
      .finally(() => setBusy(null));
  };

  return (
    <div className="pending-approval">
      <p>
        Deployment <strong>#{deployment.id}</strong> ({deployment.kind}
        {deployment.message ? `: ${deployment.message}` : ''}) was asked for by{' '}
        <strong>{approval.requestedBy}</strong> <Time at={approval.requestedAt} /> and awaits approval; it
        expires <Time at={approval.expiresAt} />.
      </p>
      <PinnedValues pinned={deployment.valuesVersion} running={approval.runningValuesVersion} />
      <SetDiffView diff={approval.diff} title="It changes" />
      <ErrorMessage error={error} />
      {mayDecide ? (
        <div className="approval-decision">
          <label htmlFor={`approval-comment-${approval.id}`}>Comment (required to reject)</label>
          <textarea
            id={`approval-comment-${approval.id}`}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            aria-invalid={missingComment}
            aria-describedby={missingComment ? `approval-comment-error-${approval.id}` : undefined}
          />
          {missingComment && (
            <span id={`approval-comment-error-${approval.id}`} className="field-error" role="alert">
              Say why it is rejected; {approval.requestedBy} sees the comment.
            </span>
          )}
          <div className="dialog-actions">
            <button type="button" disabled={busy !== null} onClick={() => decide('reject')}>
              {busy === 'rejecting' ? 'Rejecting…' : 'Reject'}
            </button>
            <button
              type="button"
              className="primary"
              disabled={busy !== null}
              onClick={() => decide('approve')}
            >
              {busy === 'approving' ? 'Approving…' : 'Approve'}
            </button>
          </div>
        </div>
      ) : (
        <p className="muted">
          {approval.requestedBy === session.whoami.username
            ? 'You asked for it: someone else with the approver role must approve it.'
            : approval.requesters.includes(session.whoami.username)
              ? `You made the rule that asked for it, or pushed the artifact it deploys: someone else with the approver role must approve it.`
              : 'An approver of this environment type decides it.'}
        </p>
      )}
      <Command>{`pave approvals approve ${approval.id} --comment "..."`}</Command>
    </div>
  );
}
