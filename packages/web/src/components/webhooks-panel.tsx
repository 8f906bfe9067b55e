import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import {
  DEFAULT_PREVIOUS_SECRET_VALIDITY,
  EVENT_TYPES,
  WEBHOOK_DISABLE_REASON_MAX,
  type EventType,
  type RotatedWebhookSecret,
  type UpdateWebhookInput,
  type Webhook,
  type WebhookDelivery,
  type WebhookTestResult,
} from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  FieldError,
  LoadStatus,
  MorePages,
  Section,
  Time,
  fieldProblems,
  problemsOf,
  shellWord,
  usePages,
} from './common.tsx';
import { asSentence } from './problem-text.ts';
import { EventTypesField, WebhookCreateForm, appFlag, webhookEventTypes } from './webhook-create-form.tsx';

/** How often the webhooks and their deliveries are fetched again while the page is open. */
const POLL_MS = 5000;
/** How many deliveries of each webhook are shown, newest first, before "More deliveries". */
const DELIVERIES_SHOWN = 10;
/** How many older deliveries "More deliveries" loads at a time. */
const DELIVERIES_MORE = 50;
/** The choices of how long a rotated-out secret keeps signing deliveries, as `previousValidFor` values. */
const PREVIOUS_VALIDITY_CHOICES = [
  { value: '0s', label: 'Not at all: switch at once' },
  { value: '1h', label: '1 hour' },
  { value: DEFAULT_PREVIOUS_SECRET_VALIDITY, label: '24 hours' },
  { value: '7d', label: '7 days' },
] as const;

/**
 * The webhooks of `app`, or the org-wide ones when `app` is null (those that receive every app's events and
 * the org-wide events): where each one posts, which events it takes, whether it is enabled (and why not), a
 * Disable button (after confirming, with an optional reason) on an enabled one and an Enable button on a
 * disabled one, a "Send test" (showing what the receiver answered), an Edit (name, URL,
 * event types), a "Rotate secret" and a Delete button each, and its recent deliveries with a "Redeliver"
 * button each; below them, a form that creates one. Reading webhooks and their deliveries needs the same
 * permission as managing them (`webhook.manage` on the app, `webhook.manage-org` for org-wide ones), so the
 * section, and every action in it, is shown only to those who hold it; the server decides regardless.
 * `intro` is said under the section's title.
 */
export function WebhooksPanel({
  session,
  app,
  title = 'Webhooks',
  intro,
}: {
  session: Session;
  app: string | null;
  title?: string;
  intro?: ReactNode;
}) {
  if (!mayManageWebhooks(session, app)) return null;
  return <WebhooksSection session={session} app={app} title={title} intro={intro} />;
}

/** Whether the user may manage (and so see) the webhooks of `app`, or the org-wide ones when `app` is null. */
function mayManageWebhooks(session: Session, app: string | null): boolean {
  return app === null ? session.can('webhook.manage-org') : session.can('webhook.manage', { app });
}

function WebhooksSection({
  session,
  app,
  title,
  intro,
}: {
  session: Session;
  app: string | null;
  title: string;
  intro: ReactNode;
}) {
  // A page at a time; every few seconds the pages shown are fetched again (keepDepth), so the state of each
  // webhook stays live without dropping those the user paged to. Without an app, the org-wide ones.
  const webhooks = usePages(
    (cursor) => {
      const scope = app === null ? {} : { app };
      return session.client.listWebhooks(cursor ? { ...scope, cursor } : scope);
    },
    [session, app],
    { keepDepth: true },
  );
  const reload = useRef(webhooks.reload);
  reload.current = webhooks.reload;
  useEffect(() => {
    const timer = window.setInterval(() => reload.current(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [session, app]);
  const items = webhooks.items ?? [];
  const [editing, setEditing] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [disabling, setDisabling] = useState<Webhook | null>(null);
  // Why the webhook being disabled is, as its disabledReason will say; optional.
  const [disableReason, setDisableReason] = useState('');
  const [previousValidFor, setPreviousValidFor] = useState<string>(DEFAULT_PREVIOUS_SECRET_VALIDITY);
  const [rotated, setRotated] = useState<RotatedWebhookSecret | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  // The webhook an Enable or "Send test" is under way for, and the last test's result.
  const [busy, setBusy] = useState<{ id: string; action: 'enable' | 'test' } | null>(null);
  const [tested, setTested] = useState<{ webhook: Webhook; result: WebhookTestResult } | null>(null);
  // What an earlier action said (a notice, an error, a test's result) goes when the next one starts.
  const startAction = () => {
    setNotice(null);
    setError(null);
    setTested(null);
  };

  const enable = async (webhook: Webhook) => {
    startAction();
    setBusy({ id: webhook.id, action: 'enable' });
    try {
      const enabled = await session.client.enableWebhook(webhook.id);
      setNotice(`Enabled webhook ${enabled.name}: it goes on from the event where it stopped.`);
      webhooks.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const test = async (webhook: Webhook) => {
    startAction();
    setBusy({ id: webhook.id, action: 'test' });
    try {
      setTested({ webhook, result: await session.client.testWebhook(webhook.id) });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Section title={title}>
      {intro}
      <LoadStatus
        state={{ data: webhooks.items && { items: webhooks.items }, error: webhooks.error }}
        what="webhooks"
        empty="No webhooks yet."
      />
      {items.length > 0 && (
        <table aria-label="Webhooks">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Created by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((webhook) => (
              <tr key={webhook.id}>
                <th scope="row" className="row-head">
                  {webhook.name} <code className="muted">{webhook.id}</code>
                </th>
                <td>
                  <code>{webhook.url}</code>
                </td>
                <td>{webhook.events?.length ? webhook.events.join(', ') : 'all events'}</td>
                <td>
                  <WebhookState webhook={webhook} />
                </td>
                {/* A webhook outlives its creator's roles (docs/webhooks.md): who made it matters then. */}
                <td>{webhook.createdBy}</td>
                <td className="actions">
                  <button
                    type="button"
                    aria-label={`Edit webhook ${webhook.name}`}
                    onClick={() => {
                      startAction();
                      setEditing(webhook);
                    }}
                  >
                    Edit
                  </button>{' '}
                  {webhook.enabled ? (
                    <>
                      <button
                        type="button"
                        aria-label={`Disable webhook ${webhook.name}`}
                        disabled={busy !== null}
                        onClick={() => {
                          startAction();
                          setDisableReason('');
                          setDisabling(webhook);
                        }}
                      >
                        Disable
                      </button>{' '}
                    </>
                  ) : (
                    <>
                      <button
                        type="button"
                        className="primary"
                        aria-label={`Enable webhook ${webhook.name}`}
                        disabled={busy !== null}
                        onClick={() => void enable(webhook)}
                      >
                        {busy?.id === webhook.id && busy.action === 'enable' ? 'Enabling…' : 'Enable'}
                      </button>{' '}
                    </>
                  )}
                  <button
                    type="button"
                    aria-label={`Send a test event to webhook ${webhook.name}`}
                    disabled={busy !== null}
                    onClick={() => void test(webhook)}
                  >
                    {busy?.id === webhook.id && busy.action === 'test' ? 'Sending…' : 'Send test'}
                  </button>{' '}
                  <button
                    type="button"
                    aria-label={`Rotate the secret of webhook ${webhook.name}`}
                    onClick={() => {
                      setPreviousValidFor(DEFAULT_PREVIOUS_SECRET_VALIDITY);
                      startAction();
                      setRotated(null);
                      setRotating(webhook);
                    }}
                  >
                    Rotate secret
                  </button>{' '}
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete webhook ${webhook.name}`}
                    onClick={() => {
                      startAction();
                      setDeleting(webhook);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MorePages pages={webhooks} label="More webhooks" />
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <ErrorMessage error={error} />
      {tested && <TestResult {...tested} onDone={() => setTested(null)} />}
      {rotated && <NewSecret rotated={rotated} onDone={() => setRotated(null)} />}
      {editing && (
        <WebhookEditForm
          key={editing.id}
          session={session}
          webhook={editing}
          offered={webhookEventTypes(app, editing.events ?? [])}
          onCancel={() => setEditing(null)}
          onSaved={(webhook) => {
            setEditing(null);
            setNotice(`Saved webhook ${webhook.name}.`);
            webhooks.reload();
          }}
        />
      )}
      {rotating && (
        <ConfirmAction
          title={`Rotate the secret of ${rotating.name}?`}
          confirmLabel="Rotate secret"
          busyLabel="Rotating…"
          action={async () =>
            setRotated(await session.client.rotateWebhookSecret(rotating.id, { previousValidFor }))
          }
          onDone={() => {
            setRotating(null);
            webhooks.reload();
          }}
          onCancel={() => setRotating(null)}
          command={`pave webhooks rotate-secret ${rotating.id} --previous-valid-for ${previousValidFor}`}
        >
          <p>
            Pave signs every delivery from now on, retries included, with a new secret, shown once. For as
            long as the old secret stays valid it signs them with both, so the receiver can switch over
            meanwhile; after that, a receiver still verifying with the old secret rejects them, and Pave
            retries. Rotating again meanwhile drops the older secret at once.
          </p>
          <label>
            The old secret stays valid{' '}
            <select
              name="previousValidFor"
              value={previousValidFor}
              onChange={(event) => setPreviousValidFor(event.target.value)}
            >
              {PREVIOUS_VALIDITY_CHOICES.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
            </select>
          </label>
        </ConfirmAction>
      )}
      {disabling && (
        <ConfirmAction
          title={`Disable webhook ${disabling.name}?`}
          confirmLabel="Disable webhook"
          busyLabel="Disabling…"
          action={async () => {
            const reason = disableReason.trim();
            await session.client.disableWebhook(disabling.id, reason ? { reason } : {});
          }}
          onDone={() => {
            setDisabling(null);
            setNotice(`Disabled webhook ${disabling.name}: nothing is sent to it until it is enabled again.`);
            webhooks.reload();
          }}
          onCancel={() => setDisabling(null)}
          command={`pave webhooks disable ${disabling.id}${
            disableReason.trim() ? ` --reason ${shellWord(disableReason.trim())}` : ''
          }`}
        >
          <p>
            Pave sends nothing to <code>{disabling.url}</code> until the webhook is enabled again (an attempt
            under way finishes). Events wait meanwhile, and deliveries not yet made stay pending: Enable sends
            them then, in order.
          </p>
          <label>
            <span>Reason (optional)</span>
            <input
              name="reason"
              value={disableReason}
              onChange={(event) => setDisableReason(event.target.value)}
              maxLength={WEBHOOK_DISABLE_REASON_MAX}
              placeholder="receiver under maintenance"
              autoComplete="off"
            />
          </label>
        </ConfirmAction>
      )}
      {deleting && (
        <ConfirmAction
          title={`Delete webhook ${deleting.name}?`}
          confirmLabel="Delete webhook"
          busyLabel="Deleting…"
          action={() => session.client.deleteWebhook(deleting.id)}
          onDone={() => {
            if (editing?.id === deleting.id) setEditing(null);
            setDeleting(null);
            setNotice(`Deleted webhook ${deleting.name}.`);
            webhooks.reload();
          }}
          onCancel={() => setDeleting(null)}
          command={`pave webhooks delete ${deleting.id}`}
        >
          <p>
            Pave stops sending events to <code>{deleting.url}</code> at once: deliveries not yet made are
            dropped, and the webhook&apos;s delivery history is deleted with it.
          </p>
        </ConfirmAction>
      )}
      {items.map((webhook) => (
        <WebhookDeliveries key={webhook.id} session={session} webhook={webhook} />
      ))}
      <WebhookCreateForm
        session={session}
        app={app}
        onCreated={() => {
          setNotice(null);
          webhooks.reload();
        }}
      />
      <Command>{`pave webhooks list${appFlag(app)}`}</Command>
      <Command>{'pave webhooks rotate-secret WEBHOOK_ID --previous-valid-for 24h'}</Command>
      <Command>{'pave webhooks test WEBHOOK_ID'}</Command>
      <Command>{'pave webhooks disable WEBHOOK_ID --reason REASON'}</Command>
      {items.some((webhook) => !webhook.enabled) && <Command>{'pave webhooks enable WEBHOOK_ID'}</Command>}
    </Section>
  );
}

/**
 * What the receiver answered a "Send test" (a signed `webhook.test` message, which Pave records as no event
 * or delivery): its HTTP status and how long it took, or why it failed, as `pave webhooks test` prints it.
 */
function TestResult({
  webhook,
  result,
  onDone,
}: {
  webhook: Webhook;
  result: WebhookTestResult;
  onDone: () => void;
}) {
  const answer = `HTTP ${result.statusCode ?? '-'} in ${Math.round(result.latencyMs)} ms`;
  const why = result.error ?? `the receiver answered ${answer}`;
  const body = result.responseBody.trim();
  return (
    <div
      className={result.ok ? 'notice' : 'error'}
      role={result.ok ? 'status' : 'alert'}
      aria-label={`Test of ${webhook.name}`}
    >
      <p>
        {result.ok
          ? `Sent a test event to ${webhook.name}: the receiver answered ${answer}.`
          : asSentence(`The test event to ${webhook.name} failed: ${why}`)}
      </p>
      {!result.ok && body && (
        <p>
          It answered: <code className="detail">{body.length > 200 ? `${body.slice(0, 200)}…` : body}</code>
        </p>
      )}
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** A rotated signing secret, shown this once with what to do with it, until "Done". */
function NewSecret({ rotated, onDone }: { rotated: RotatedWebhookSecret; onDone: () => void }) {
  return (
    <div className="notice" role="status" aria-label={`New secret of ${rotated.webhook.name}`}>
      <p>
        New signing secret of {rotated.webhook.name}: <code>{rotated.secret}</code>
      </p>
      {rotated.webhook.previousSecretExpiresAt === null ? (
        <p>
          This secret is shown only now: put it in the receiver, which must verify every delivery with it from
          now on.
        </p>
      ) : (
        <p>
          This secret is shown only now: put it in the receiver before{' '}
          <Time at={rotated.webhook.previousSecretExpiresAt} />. Until then every delivery is signed with both
          the old and the new secret; after that, with the new one alone.
        </p>
      )}
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** How the edit form names its fields in the server's problems. */
const EDIT_FIELDS = { '/name': 'the name', '/url': 'the URL', '/events': 'the event types' } as const;

/**
 * The form that changes a webhook's name, URL and event types; only what was changed is sent. The URL
 * field starts empty (the webhook's URL is shown with its credentials masked, and sending that back would
 * replace the real one): left empty, the URL stays.
 */
function WebhookEditForm({
  session,
  webhook,
  offered,
  onSaved,
  onCancel,
}: {
  session: Session;
  webhook: Webhook;
  /** The event types to choose from (see webhookEventTypes). */
  offered: readonly EventType[];
  onSaved: (webhook: Webhook) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(webhook.name);
  const [url, setUrl] = useState('');
  const [every, setEvery] = useState(webhook.events === null);
  const [types, setTypes] = useState<EventType[]>(webhook.events ?? []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const changes = editChanges(webhook, { name, url, every, types });
  const prefix = `edit-webhook-${webhook.id}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (!every && types.length === 0) {
      setError(new Error('Choose at least one event type, or "Every event type".'));
      return;
    }
    if (Object.keys(changes).length === 0) {
      setError(new Error('Nothing to change: edit the name, the URL or the event types first.'));
      return;
    }
    setBusy(true);
    try {
      onSaved(await session.client.updateWebhook(webhook.id, changes));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const fields = fieldProblems(error, EDIT_FIELDS);
  const problems = problemsOf(error);
  const allAtFields = problems.length > 0 && problems.every(fields.shownAtField);
  return (
    <form onSubmit={submit} aria-label={`Edit webhook ${webhook.name}`} className="webhook-edit">
      <h3>Edit webhook {webhook.name}</h3>
      <div className="form-row">
        <div className="field">
          <label>
            Name
            <input
              name="name"
              value={name}
              onChange={(event) => setName(event.target.value)}
              required
              autoComplete="off"
              {...fields.describe('/name', `${prefix}-name-error`)}
            />
          </label>
          <FieldError id={`${prefix}-name-error`} messages={fields.at('/name')} />
        </div>
        <div className="field">
          <label>
            New URL
            <input
              name="url"
              type="url"
              value={url}
              onChange={(event) => setUrl(event.target.value)}
              placeholder={webhook.url}
              autoComplete="off"
              {...fields.describe('/url', `${prefix}-url-error`, `${prefix}-url-hint`)}
            />
          </label>
          <span id={`${prefix}-url-hint`} className="hint">
            Left empty, the URL stays. Pending deliveries go to a new one at once.
          </span>
          <FieldError id={`${prefix}-url-error`} messages={fields.at('/url')} />
        </div>
      </div>
      <EventTypesField
        radioName="every"
        errorId={`${prefix}-events-error`}
        offered={offered}
        errors={fields.at('/events')}
        every={every}
        onEvery={setEvery}
        types={types}
        onTypes={setTypes}
      />
      {/* A problem the server put at a field stands there alone; anything else shows here. */}
      {!allAtFields && <ErrorMessage error={error} shownAtField={fields.shownAtField} />}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </button>{' '}
      <button type="button" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      <Command>{updateCommand(webhook, changes)}</Command>
    </form>
  );
}

/** What the edit form changes: the fields that differ from the webhook (and a URL, when one is given). */
function editChanges(
  webhook: Webhook,
  form: { name: string; url: string; every: boolean; types: readonly EventType[] },
): UpdateWebhookInput {
  const name = form.name.trim();
  const url = form.url.trim();
  const events = form.every ? null : EVENT_TYPES.filter((type) => form.types.includes(type));
  const sameEvents =
    events === null
      ? webhook.events === null
      : webhook.events !== null &&
        events.length === new Set(webhook.events).size &&
        events.every((type) => webhook.events!.includes(type));
  return {
    ...(name !== webhook.name ? { name } : {}),
    ...(url ? { url } : {}),
    ...(sameEvents || (events !== null && events.length === 0) ? {} : { events }),
  };
}

/** The `pave webhooks update` command that makes the same change. */
function updateCommand(webhook: Webhook, changes: UpdateWebhookInput): string {
  return [
    `pave webhooks update ${webhook.id}`,
    changes.name ? ` --name ${shellWord(changes.name)}` : '',
    // Not the URL itself: it may carry credentials, which the page shows nowhere else.
    changes.url ? ' --url URL' : '',
    changes.events === null ? ' --all-events' : '',
    changes.events ? ` --events ${changes.events.join(',')}` : '',
  ].join('');
}

function WebhookState({ webhook }: { webhook: Webhook }) {
  if (webhook.enabled) {
    return (
      <>
        <span className="status-succeeded">enabled</span>
        {webhook.consecutiveFailures > 0 && (
          <div className="hint">{failuresInARow(webhook.consecutiveFailures)}</div>
        )}
        {webhook.previousSecretExpiresAt !== null && (
          <div className="hint">
            old secret also signs until <Time at={webhook.previousSecretExpiresAt} />
          </div>
        )}
      </>
    );
  }
  return (
    <>
      <span className="status-failed">disabled</span>
      {webhook.disabledReason && <div className="hint">{asSentence(webhook.disabledReason)}</div>}
    </>
  );
}

function failuresInARow(count: number): string {
  return count === 1 ? '1 failed delivery' : `${count} failed deliveries in a row`;
}

/**
 * A webhook's recent deliveries, newest first, with older ones a page at a time on request; each can be sent
 * again. The recent ones are fetched again every few seconds while no older page is shown (a refresh starts
 * again from the newest, which would drop the older pages loaded).
 */
function WebhookDeliveries({ session, webhook }: { session: Session; webhook: Webhook }) {
  const deliveries = usePages(
    (cursor) =>
      session.client.listWebhookDeliveries(
        webhook.id,
        cursor ? { limit: DELIVERIES_MORE, cursor } : { limit: DELIVERIES_SHOWN },
      ),
    [session, webhook.id],
  );
  const [sending, setSending] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const items = deliveries.items ?? [];
  const showingOlder = items.length > DELIVERIES_SHOWN;
  const reload = useRef(deliveries.reload);
  reload.current = deliveries.reload;
  useEffect(() => {
    if (showingOlder) return undefined;
    const timer = window.setInterval(() => reload.current(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [showingOlder, session, webhook.id]);

  const redeliver = async (delivery: WebhookDelivery) => {
    setSending(delivery.id);
    setNotice(null);
    setError(null);
    try {
      const queued = await session.client.redeliverWebhookDelivery(delivery.id);
      setNotice(asSentence(`${describeEvent(delivery)} is queued again, as delivery ${queued.id}`));
      deliveries.reload();
    } catch (e) {
      setError(e);
    } finally {
      setSending(null);
    }
  };

  const title = `Deliveries of ${webhook.name}`;
  return (
    <div className="webhook-deliveries">
      <h3>{title}</h3>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <ErrorMessage error={error} />
      <LoadStatus
        state={{ data: deliveries.items && { items: deliveries.items }, error: deliveries.error }}
        what="deliveries"
        empty="Nothing delivered yet."
      />
      {items.length > 0 && (
        <table aria-label={title}>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Time</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((delivery) => (
              <tr key={delivery.id}>
                <th scope="row" className="row-head">
                  {delivery.eventType}
                  {delivery.eventId !== null && <span className="muted"> #{delivery.eventId}</span>}
                </th>
                <td>
                  <span className={`status-${delivery.status}`}>{delivery.status}</span>
                  {delivery.status === 'pending' && delivery.nextAttemptAt && (
                    <div className="hint">
                      next try <Time at={delivery.nextAttemptAt} />
                    </div>
                  )}
                </td>
                <td>{delivery.attempts}</td>
                <td>
                  <LastAnswer delivery={delivery} />
                </td>
                <td>
                  <Time at={delivery.attemptLog.at(-1)?.at ?? delivery.createdAt} />
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Redeliver ${describeEvent(delivery)} to ${webhook.name}`}
                    disabled={sending !== null}
                    onClick={() => void redeliver(delivery)}
                  >
                    {sending === delivery.id ? 'Redelivering…' : 'Redeliver'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MorePages pages={deliveries} label="More deliveries" />
      <Command>{`pave webhooks deliveries ${webhook.id}`}</Command>
      <Command>{`pave webhooks redeliver DELIVERY_ID`}</Command>
    </div>
  );
}

/** The event a delivery carries, for people: `event 42 (deployment.succeeded)`. */
function describeEvent(delivery: WebhookDelivery): string {
  return delivery.eventId === null
    ? `the ${delivery.eventType} message`
    : `event ${delivery.eventId} (${delivery.eventType})`;
}

/** The receiver's last answer: its HTTP status, or why none came, as a sentence. */
function LastAnswer({ delivery }: { delivery: WebhookDelivery }) {
  if (delivery.lastStatusCode === null && !delivery.lastError) {
    return <span className="muted">-</span>;
  }
  return (
    <>
      {delivery.lastStatusCode !== null && <div>HTTP {delivery.lastStatusCode}</div>}
      {delivery.lastError && <div className="muted detail">{asSentence(delivery.lastError)}</div>}
    </>
  );
}
