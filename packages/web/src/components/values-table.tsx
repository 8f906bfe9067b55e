import type { ValueList } from '@pave/core';
import { Time } from './common.tsx';

/**
 * An environment's effective values. A secret is always drawn masked: the portal never asks the server to
 * reveal one, and would not show it if a value came anyway.
 */
export function ValuesTable({
  values,
  onUnset,
}: {
  values: ValueList;
  /** Given to those who may write values: an "Unset" button on each of this environment's own values. */
  onUnset?: (key: string) => void;
}) {
  if (values.items.length === 0) return <p className="muted">No values set.</p>;
  return (
    <>
      <p className="muted">
        Version {values.version ?? '-'}; values set for this environment override the app&apos;s defaults.
      </p>
      <table aria-label="Values">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Value</th>
            <th scope="col">From</th>
            <th scope="col" className="wide-only">
              Updated
            </th>
            {onUnset && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {values.items.map((item) => (
            <tr key={item.key}>
              <th scope="row" className="row-head">
                <code>{item.key}</code>
              </th>
              <td>
                {item.secret ? (
                  <span className="secret-mask">
                    <span aria-hidden="true">••••••••</span> <span className="badge">secret, hidden</span>
                  </span>
                ) : (
                  <code className="value">{item.value}</code>
                )}
              </td>
              <td>{item.source === 'env' ? 'this environment' : 'app default'}</td>
              <td className="wide-only">
                <Time at={item.updatedAt} /> by {item.updatedBy}
              </td>
              {onUnset && (
                <td>
                  {item.source === 'env' && (
                    <button type="button" aria-label={`Unset ${item.key}`} onClick={() => onUnset(item.key)}>
                      Unset
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
