import { useState, type FormEvent } from 'react';
import type { Rule } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, FieldError, fieldProblems, shellWord, useAction } from './common.tsx';
import type { DeployTarget } from './deploy-artifact-dialog.tsx';

/** How the form names its fields in the server's problems. */
const RULE_FIELDS = {
  '/env': 'the environment',
  '/branch': 'the branch',
  '/workload': 'the workload',
} as const;

/**
 * The form that creates an automation rule of `app` (`pave rules create`): the environment to deploy to (of
 * `targets`, those the user may deploy to, as the server requires of a rule's creator), the branch glob
 * whose artifacts it deploys, and optionally the workload an artifact must contain. The server's problems
 * with a field stand under it.
 */
export function RuleCreateForm({
  session,
  app,
  targets,
  onCreated,
}: {
  session: Session;
  app: string;
  targets: readonly DeployTarget[];
  onCreated: (rule: Rule) => void;
}) {
  const [picked, setPicked] = useState('');
  const [branch, setBranch] = useState('');
  const [workload, setWorkload] = useState('');
  const action = useAction();
  const env = targets.some((target) => target.id === picked) ? picked : (targets[0]?.id ?? '');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      if (!env) throw new Error('There is no environment of this app you may deploy to.');
      const rule = await session.client.createRule(app, {
        env,
        branch: branch.trim(),
        ...(workload.trim() ? { workload: workload.trim() } : {}),
      });
      setBranch('');
      setWorkload('');
      onCreated(rule);
    });
  };

  const fields = fieldProblems(action.error, RULE_FIELDS);
  const command =
    `pave rules create --app ${app} --env ${env || 'ENV'} --branch ${branch.trim() ? shellWord(branch.trim()) : 'GLOB'}` +
    (workload.trim() ? ` --workload ${shellWord(workload.trim())}` : '');

  return (
    <div>
      <h3>New rule</h3>
      <form onSubmit={submit} aria-label="New rule">
        <div className="form-row">
          <div className="field">
            <label>
              Environment
              <select
                name="env"
                value={env}
                onChange={(event) => setPicked(event.target.value)}
                required
                {...fields.describe('/env', 'create-rule-env-error')}
              >
                {targets.map((target) => (
                  <option key={target.id} value={target.id}>
                    {target.id} ({target.type}
                    {target.requiresApproval ? ', requires approval' : ''})
                  </option>
                ))}
              </select>
            </label>
            <FieldError id="create-rule-env-error" messages={fields.at('/env')} />
          </div>
          <div className="field">
            <label>
              Branch glob
              <input
                name="branch"
                value={branch}
                onChange={(event) => setBranch(event.target.value)}
                required
                placeholder="e.g. main or release/*"
                autoComplete="off"
                spellCheck={false}
                {...fields.describe('/branch', 'create-rule-branch-error', 'create-rule-branch-hint')}
              />
            </label>
            <span id="create-rule-branch-hint" className="hint">
              The branches whose artifacts it deploys: * within a path segment, ** across.
            </span>
            <FieldError id="create-rule-branch-error" messages={fields.at('/branch')} />
          </div>
          <div className="field">
            <label>
              Workload (optional)
              <input
                name="workload"
                value={workload}
                onChange={(event) => setWorkload(event.target.value)}
                placeholder="any"
                autoComplete="off"
                spellCheck={false}
                {...fields.describe('/workload', 'create-rule-workload-error', 'create-rule-workload-hint')}
              />
            </label>
            <span id="create-rule-workload-hint" className="hint">
              Only artifacts that contain this workload.
            </span>
            <FieldError id="create-rule-workload-error" messages={fields.at('/workload')} />
          </div>
        </div>
        <button type="submit" className="primary" disabled={action.busy || !env}>
          {action.busy ? 'Creating…' : 'Create rule'}
        </button>
      </form>
      {targets.length === 0 && (
        <p className="hint">
          A rule deploys with your roles, and there is no environment of {app} you may deploy to.
        </p>
      )}
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      <Command>{command}</Command>
    </div>
  );
}
