import type { MatchCriterion, MatchExplanation } from '@pave/core';

/** A definition's or target's criteria, one per line as `field=value` pairs; "none" when it has none. */
export function MatchCriteria({ criteria }: { criteria: readonly MatchCriterion[] }) {
  if (criteria.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {criteria.map((criterion, index) => (
        <li key={index}>
          <code>{formatCriterion(criterion)}</code>
        </li>
      ))}
    </ul>
  );
}

/** One criterion as `field=value` pairs joined by `,`, as `pave defs list` prints it; `(any)` when empty. */
export function formatCriterion(criterion: MatchCriterion): string {
  const fields = (['envType', 'envId', 'appId', 'resId', 'class'] as const)
    .filter((field) => criterion[field] !== undefined)
    .map((field) => `${field}=${criterion[field]}`);
  return fields.length > 0 ? fields.join(',') : '(any)';
}

/** A match explanation: the winner (or that none matches), then every candidate with why. */
export function MatchResult({
  explanation,
  noun,
}: {
  explanation: MatchExplanation;
  noun: 'definition' | 'target';
}) {
  const { winner, candidates } = explanation;
  const winnerBuiltIn = candidates.find((c) => c.id === winner?.id)?.builtIn === true;
  return (
    <div className="match-result">
      <p role="status">
        {winner ? (
          <>
            Winner: <strong>{winner.id}</strong>{' '}
            {winnerBuiltIn
              ? '(the built-in default: no other one matches)'
              : winner.criterion
                ? `(criterion ${formatCriterion(winner.criterion)}, specificity ${winner.specificity})`
                : `(no criteria, specificity ${winner.specificity})`}
          </>
        ) : noun === 'definition' ? (
          'No definition matches: a deployment that uses this resource is refused.'
        ) : (
          'No target matches this environment.'
        )}
      </p>
      {candidates.length > 0 && (
        <table>
          <caption className="hint">Candidates</caption>
          <thead>
            <tr>
              <th scope="col">{noun === 'definition' ? 'Definition' : 'Target'}</th>
              <th scope="col">Outcome</th>
              <th scope="col">Specificity</th>
              <th scope="col">Criterion</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {candidates.map((candidate) => (
              <tr key={candidate.id}>
                <th scope="row" className="row-head">
                  {candidate.id}
                  {candidate.builtIn && <span className="tag">built-in</span>}
                </th>
                <td className={`outcome-${candidate.outcome}`}>{candidate.outcome}</td>
                <td>
                  {candidate.specificity === null
                    ? '-'
                    : candidate.builtIn
                      ? 'built-in'
                      : candidate.specificity}
                </td>
                <td>{candidate.criterion ? <code>{formatCriterion(candidate.criterion)}</code> : '-'}</td>
                <td>{candidate.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
