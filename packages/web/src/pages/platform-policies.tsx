import { useRef, useState } from 'react';
import type { Policy, PolicyRecord } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  LoadStatus,
  MorePages,
  Section,
  Time,
  focusedElement,
  usePages,
} from '../components/common.tsx';
import { Criteria, DeclarativeApply, type DeclarationsCheck } from '../components/declarative-apply.tsx';

/** The Apply YAML form's placeholder: the example of docs/policies.md, shortened. */
const EXAMPLE = `- id: no-latest-images
  criteria: [{ envType: production }]
  severity: deny
  message: pin container images to a tag other than latest
  each: container
  rule: '!container.image.endsWith(":latest")'`;

/**
 * Checks an Apply YAML text as `pave policies apply -f` checks its file, with core's parser (loaded when
 * first used): YAML, schema, duplicate ids, every CEL rule and freeze. A server's problem with a field is
 * located as the CLI locates it.
 */
export async function checkPolicies(text: string, file: string): Promise<DeclarationsCheck<Policy>> {
  const { locatePolicyField, parsePoliciesFile } = await import('@pave/core/declarations');
  const { policies, problems } = parsePoliciesFile(text, file);
  return {
    items: policies,
    problems,
    locate: (index, path) => locatePolicyField(text, index, path.join('/')),
  };
}

/**
 * The Policies tab: every policy (`pave policies list`) with where it applies, its severity, its message and
 * what it checks. Those who may write policies (`policy.write`) also delete one, after confirming, and apply
 * a YAML file of them with a plan first (`pave policies apply -f`).
 */
export function PoliciesTab({ session }: { session: Session }) {
  // keepDepth: applying or deleting reloads as many pages as were shown.
  const policies = usePages((cursor) => session.client.listPolicies(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('policy.write');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = policies.items ?? [];

  return (
    <>
      <Section title="Policies">
        <p className="muted">
          Checked when every deployment, rollback and promotion is planned: a deny refuses it, a warn lets it
          through with a warning.
        </p>
        <LoadStatus
          state={{ data: policies.items && { items: policies.items }, error: policies.error }}
          what="policies"
          empty="No policies yet."
        />
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Applies</th>
                <th scope="col">Severity</th>
                <th scope="col">Checks</th>
                <th scope="col">Message</th>
                <th scope="col">Updated</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((policy) => (
                <tr key={policy.id}>
                  <th scope="row" className="row-head">
                    {policy.id}
                    {policy.description && <div className="hint">{policy.description}</div>}
                  </th>
                  <td>
                    <Criteria criteria={policy.criteria ?? []} />
                  </td>
                  <td className={policy.severity === 'deny' ? 'status-failed' : undefined}>
                    {policy.severity}
                  </td>
                  <td>
                    <PolicyCheck policy={policy} />
                  </td>
                  <td>{policy.message}</td>
                  <td>
                    {policy.updatedBy}, <Time at={policy.updatedAt} />
                  </td>
                  {mayWrite && (
                    <td>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete policy ${policy.id}`}
                        onClick={() => {
                          setDone(null);
                          opener.current = focusedElement();
                          setDeleting(policy.id);
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={policies} label="More policies" />
        <Command>pave policies list</Command>
      </Section>
      {mayWrite && (
        <DeclarativeApply
          noun="policy"
          list="policies"
          example={EXAMPLE}
          check={checkPolicies}
          send={(items, dryRun) =>
            session.client.applyPolicies({ policies: items, ...(dryRun ? { dryRun } : {}) })
          }
          onApplied={() => {
            setDone(null);
            policies.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmAction
          title="Delete policy?"
          confirmLabel="Delete policy"
          busyLabel="Deleting…"
          action={() => session.client.deletePolicy(deleting)}
          onDone={() => {
            setDeleting(null);
            setDone(`Deleted policy ${deleting}.`);
            policies.reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
          command={`pave policies delete ${deleting}`}
        >
          <p>
            Delete policy <strong>{deleting}</strong>? Deployments are no longer checked against it. Applying
            its YAML again brings it back.
          </p>
        </ConfirmAction>
      )}
    </>
  );
}

/** What a policy checks: its CEL rule (and what it is evaluated for), its promotion gate, or its freeze. */
function PolicyCheck({ policy }: { policy: PolicyRecord }) {
  if (policy.rule !== undefined) {
    return (
      <>
        <span className="hint">rule, each {policy.each ?? 'deployment'}:</span> <code>{policy.rule}</code>
      </>
    );
  }
  if (policy.promotionGate) {
    return (
      <>
        promotion gate: succeeded in <strong>{policy.promotionGate.from}</strong> within{' '}
        {policy.promotionGate.within}
      </>
    );
  }
  const freeze = policy.freeze;
  if (freeze && 'schedule' in freeze) {
    return (
      <>
        freeze: <code>{freeze.schedule}</code> for {freeze.duration}
        {freeze.timezone ? ` (${freeze.timezone})` : ' (UTC)'}
      </>
    );
  }
  if (freeze) {
    return (
      <>
        freeze: from <Time at={freeze.from} /> to <Time at={freeze.to} />
      </>
    );
  }
  return <span className="muted">-</span>;
}
