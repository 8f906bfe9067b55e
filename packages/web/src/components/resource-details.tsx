import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { AccessTarget, Resource, ResourceCheck, ResourceGraph } from '@pave/core';
import { ApiError } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  Confirm,
  ErrorMessage,
  FieldError,
  Time,
  fieldProblems,
  shellWord,
  useAction,
  useLoad,
} from './common.tsx';

type GraphNode = ResourceGraph['nodes'][number];

/**
 * One resource of the graph: its type, class, id, the definition that matched it, its driver, its outputs
 * (secret outputs by name only: the API never sends their values) and its status, with a check by its
 * driver on request. A provisioned resource has a Move… button for those who may move it (`resource.write`
 * on `target`), which asks for its new address in a dialog and calls `onMoved` once it is moved.
 */
export function ResourceDetails({
  session,
  app,
  env,
  node,
  target,
  onMoved,
}: {
  session: Session;
  app: string;
  env: string;
  node: GraphNode;
  /** The environment's app and type, which moving is allowed on; undefined while they load. */
  target?: AccessTarget | undefined;
  /** Called once the resource is moved to another address: the graph changes. */
  onMoved?: ((resource: Resource) => void) | undefined;
}) {
  // A built-in resource or one not provisioned yet has no record to fetch.
  const stored = node.provisioned && !node.builtIn;
  const resource = useLoad(
    () => (stored ? session.client.getResource(app, env, node.address) : Promise.resolve(undefined)),
    [app, env, node.address, stored],
  );
  const [check, setCheck] = useState<ResourceCheck | 'none' | null>(null);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [moving, setMoving] = useState(false);
  const [moved, setMoved] = useState<Resource | null>(null);
  const moveButton = useRef<HTMLButtonElement>(null);
  // The Move… button goes with the resource's record: the focus goes to what the move did instead.
  const movedNotice = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (moved) movedNotice.current?.focus();
  }, [moved]);
  const detail = resource.data;
  const missing = resource.error instanceof ApiError && resource.error.status === 404;
  const outputs = Object.entries(detail?.values ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const runCheck = async () => {
    setChecking(true);
    setCheckError(null);
    try {
      const path = `/apps/${encodeURIComponent(app)}/envs/${encodeURIComponent(env)}/resources/check`;
      const result = await session.client.request<{ items: ResourceCheck[] }>('GET', path);
      setCheck(result.items.find((item) => item.address === node.address) ?? 'none');
    } catch (e) {
      setCheckError(e);
    } finally {
      setChecking(false);
    }
  };

  const mayMove = onMoved !== undefined && target !== undefined && session.can('resource.write', target);

  const status = node.builtIn
    ? 'built in: Pave provides it, nothing is provisioned'
    : !node.provisioned || missing
      ? 'not provisioned yet: the next deployment creates it'
      : 'provisioned';

  return (
    <div className="resource-details">
      <dl>
        <dt>Type</dt>
        <dd>{node.type}</dd>
        <dt>Class</dt>
        <dd>{node.class}</dd>
        <dt>Id</dt>
        <dd>
          <code>{node.resId}</code>
          {node.shared ? ' (shared)' : ''}
        </dd>
        <dt>Definition</dt>
        <dd>{node.definitionId ?? (node.builtIn ? 'built in' : 'none matched yet')}</dd>
        <dt>Driver</dt>
        <dd>{detail ? detail.driver : stored && !resource.error ? 'Loading…' : '-'}</dd>
        <dt>Status</dt>
        <dd>
          {status}
          {detail && (
            <>
              {' '}
              (updated <Time at={detail.updatedAt} />)
            </>
          )}
        </dd>
        <dt>Used by</dt>
        <dd>{node.consumers.map((c) => `${c.workload} (as ${c.name})`).join(', ') || 'no workload'}</dd>
        {node.dependsOn.length > 0 && (
          <>
            <dt>Depends on</dt>
            <dd>{node.dependsOn.join(', ')}</dd>
          </>
        )}
      </dl>
      {!missing && <ErrorMessage error={resource.error} />}
      {detail && (
        <>
          <h4>Outputs</h4>
          {outputs.length === 0 && detail.secrets.length === 0 ? (
            <p className="muted">No outputs.</p>
          ) : (
            <ul className="resource-outputs" aria-label="Outputs">
              {outputs.map(([name, value]) => (
                <li key={name}>
                  <code>{name}</code> = <code className="value">{value}</code>
                </li>
              ))}
              {detail.secrets.map((name) => (
                <li key={name}>
                  <code>{name}</code> <span className="badge">secret, hidden</span>
                </li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => void runCheck()} disabled={checking}>
            {checking ? 'Checking…' : 'Check with its driver'}
          </button>
          <div role="status">
            {check === 'none' && <p className="muted">The check did not report this resource.</p>}
            {check && check !== 'none' && (
              <p className={check.status === 'ok' ? 'state-ready' : 'error'}>
                {check.status === 'ok' ? 'OK: it exists as recorded.' : `${check.status}: ${check.detail}`}
              </p>
            )}
          </div>
          <ErrorMessage error={checkError} />
          {mayMove && (
            <p>
              <button
                ref={moveButton}
                type="button"
                aria-label={`Move ${node.address}`}
                onClick={() => {
                  setMoved(null);
                  setMoving(true);
                }}
              >
                Move…
              </button>
            </p>
          )}
        </>
      )}
      {moved && (
        <p ref={movedNotice} className="notice" role="status" tabIndex={-1}>
          Moved {node.address} to {moved.address}; it keeps its data. Deploy the renamed Score file next:
          until then {node.address} shows as not provisioned yet.
        </p>
      )}
      {moving && detail && onMoved && (
        <MoveResourceDialog
          session={session}
          app={app}
          env={env}
          resource={detail}
          onMoved={(resource) => {
            setMoving(false);
            setMoved(resource);
            onMoved(resource);
          }}
          onCancel={() => {
            setMoving(false);
            moveButton.current?.focus();
          }}
        />
      )}
      <Command>{`pave resources get ${node.address} --app ${app} --env ${env}`}</Command>
    </div>
  );
}

/** The move dialog's field a server problem can point at, named for people. */
const MOVE_FIELDS: Record<string, string> = { '/to': 'the new address' };

/**
 * Asks for the address to move `resource` to, says what moving does (the resource and its data stay, only
 * the address Pave keeps it under changes), and moves it (`POST …/resources/move`, as `pave resources move`).
 * A refusal (the address is taken or malformed, the driver keeps a state under the old address) stands in the
 * dialog as sentences, the new address's under its field, and the dialog stays open.
 */
function MoveResourceDialog({
  session,
  app,
  env,
  resource,
  onMoved,
  onCancel,
}: {
  session: Session;
  app: string;
  env: string;
  resource: Resource;
  onMoved: (resource: Resource) => void;
  onCancel: () => void;
}) {
  const from = resource.address;
  // It starts with the workload (or `shared.`), which a renamed resource usually keeps.
  const [to, setTo] = useState(from.slice(0, from.indexOf('.') + 1));
  const action = useAction();
  const fields = fieldProblems(action.error, MOVE_FIELDS);
  // Typing starts in the field (Confirm's own autoFocus would put it on the button).
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const target = to.trim();

  const confirm = () => {
    if (action.busy || target === '') return;
    void action.run(async () => onMoved(await session.client.moveResource(app, env, { from, to: target })));
  };
  const onEnter = (event: KeyboardEvent) => {
    if (event.key === 'Enter') confirm();
  };

  return (
    // Escape cancels the dialog alone: the graph around it would close the whole panel.
    <div
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return;
        event.stopPropagation();
        onCancel();
      }}
    >
      <Confirm
        title={`Move ${from}?`}
        confirmLabel={action.busy ? 'Moving…' : 'Move resource'}
        confirmDisabled={target === ''}
        onConfirm={confirm}
        onCancel={onCancel}
      >
        <p>
          Moving re-points the {resource.type} resource <strong>{from}</strong> at a new address. The resource
          and its data are kept: nothing is created, copied or deleted, and its workloads keep running. Move
          it before you deploy a Score file that renames the resource (or gives it to another workload), so
          that the deployment finds it at its new address instead of creating an empty one.
        </p>
        <div className="field">
          <label>
            New address
            <input
              ref={field}
              name="to"
              value={to}
              onChange={(event) => setTo(event.target.value)}
              onKeyDown={onEnter}
              autoComplete="off"
              spellCheck={false}
              {...fields.describe('/to', 'move-resource-to-error', 'move-resource-to-hint')}
            />
          </label>
          <FieldError id="move-resource-to-error" messages={fields.at('/to')} />
          <span id="move-resource-to-hint" className="hint">
            WORKLOAD.NAME for a resource of one workload, shared.ID for a shared one.
          </span>
        </div>
        <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
        <Command>{`pave resources move --app ${app} --env ${env} ${from} ${target ? shellWord(target) : 'TO'}`}</Command>
      </Confirm>
    </div>
  );
}
