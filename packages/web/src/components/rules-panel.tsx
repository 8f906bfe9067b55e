import { useRef, useState } from 'react';
import type { Rule } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ConfirmAction, ErrorMessage, MorePages, Section, Time, usePages } from './common.tsx';
import type { DeployTarget } from './deploy-artifact-dialog.tsx';
import { RuleCreateForm } from './rule-create-form.tsx';

/**
 * An app's automation rules, oldest first, a page at a time (`pave rules list`): each deploys the artifacts
 * of matching branches to its environment when they are pushed. Those who hold `rule.write` get a form that
 * creates one and, on each rule whose environment they may deploy to (the server asks that of deleting one,
 * as of creating it), a Delete button that asks first.
 */
export function RulesPanel({
  session,
  app,
  environments,
  deployTargets,
}: {
  session: Session;
  app: string;
  /** Every environment of the app; undefined while unknown. */
  environments: readonly DeployTarget[] | undefined;
  /** Those the user may deploy to; undefined while unknown. */
  deployTargets: readonly DeployTarget[] | undefined;
}) {
  const rules = usePages(
    (cursor) => session.client.listRules(app, cursor ? { cursor } : {}),
    [session, app],
    { keepDepth: true },
  );
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = rules.items ?? [];
  const mayWrite = session.can('rule.write', { app });
  const mayDelete = (rule: Rule) =>
    mayWrite && (environments?.find((env) => env.id === rule.env)?.mayDeploy ?? false);
  const anyDeletable = items.some(mayDelete);

  return (
    <Section title="Rules">
      <ErrorMessage error={rules.error} />
      {!rules.items && !rules.error && <p className="loading">Loading rules…</p>}
      {rules.items?.length === 0 && (
        <p className="muted">
          No rules: pushed artifacts are deployed only by hand (<code>pave deploy --artifact</code>).
        </p>
      )}
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      {items.length > 0 && (
        <table aria-label="Rules">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Environment</th>
              <th scope="col">Branch glob</th>
              <th scope="col">Workload</th>
              <th scope="col">Created by</th>
              <th scope="col">When</th>
              {anyDeletable && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {items.map((rule) => (
              <tr key={rule.id}>
                <th scope="row" className="row-head">
                  {rule.id}
                </th>
                <td>{rule.env}</td>
                <td>
                  <code>{rule.branch}</code>
                </td>
                <td>{rule.workload ?? <span className="muted">any</span>}</td>
                <td>{rule.createdBy}</td>
                <td>
                  <Time at={rule.createdAt} />
                </td>
                {anyDeletable && (
                  <td>
                    {mayDelete(rule) ? (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete rule ${rule.id}`}
                        onClick={(event) => {
                          opener.current = event.currentTarget;
                          setNotice(null);
                          setDeleting(rule);
                        }}
                      >
                        Delete
                      </button>
                    ) : (
                      <span className="muted">-</span>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MorePages pages={rules} label="More rules" />
      <Command>{`pave rules list --app ${app}`}</Command>
      {deleting && (
        <ConfirmAction
          title={`Delete rule ${deleting.id}?`}
          confirmLabel="Delete rule"
          busyLabel="Deleting…"
          action={() => session.client.deleteRule(app, deleting.id)}
          onDone={() => {
            setDeleting(null);
            setNotice(`Deleted rule ${deleting.id}.`);
            rules.reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
          command={`pave rules delete ${deleting.id} --app ${app}`}
        >
          <p>
            Artifacts of <code>{deleting.branch}</code> pushed from now on are no longer deployed to{' '}
            <strong>{deleting.env}</strong> by this rule; the deployments it made stay.
          </p>
        </ConfirmAction>
      )}
      {mayWrite && deployTargets && (
        <RuleCreateForm
          session={session}
          app={app}
          targets={deployTargets}
          onCreated={(rule) => {
            setNotice(
              `Created rule ${rule.id}: artifacts of ${rule.branch}` +
                `${rule.workload ? ` with workload ${rule.workload}` : ''} are deployed to ${rule.env} when pushed.`,
            );
            rules.reload();
          }}
        />
      )}
    </Section>
  );
}
