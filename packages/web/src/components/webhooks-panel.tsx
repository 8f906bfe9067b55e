import { useEffect, useRef, useState } from 'react';
import type { Webhook, WebhookDelivery } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, LoadStatus, Section, Time, useLoad, usePages } from './common.tsx';
import { asSentence } from './problem-text.ts';

/** How often the webhooks and their deliveries are fetched again while the page is open. */
const POLL_MS = 5000;
/** How many deliveries of each webhook are shown, newest first, before "More deliveries". */
const DELIVERIES_SHOWN = 10;
/** How many older deliveries "More deliveries" loads at a time. */
const DELIVERIES_MORE = 50;

/**
 * An app's webhooks: where each one posts, which events it takes, whether it is enabled (and why not), and
 * its recent deliveries with a "Redeliver" button each. Reading webhooks and their deliveries needs the same
 * permission as managing them (`webhook.manage`), so the section is shown only to those who hold it; the
 * server decides regardless.
 */
export function WebhooksPanel({ session, app }: { session: Session; app: string }) {
  if (!session.can('webhook.manage', { app })) return null;
  return <WebhooksSection session={session} app={app} />;
}

function WebhooksSection({ session, app }: { session: Session; app: string }) {
  const webhooks = useLoad(() => session.client.listWebhooks({ app }), [session, app], POLL_MS);
  const items = webhooks.data?.items ?? [];
  return (
    <Section title="Webhooks">
      <LoadStatus state={webhooks} what="webhooks" empty="No webhooks yet." />
      {items.length > 0 && (
        <table aria-label="Webhooks">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
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
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items.map((webhook) => (
        <WebhookDeliveries key={webhook.id} session={session} webhook={webhook} />
      ))}
      <Command>{`pave webhooks list --app ${app}`}</Command>
      <Command>{`pave webhooks create NAME --url URL --app ${app}`}</Command>
    </Section>
  );
}

function WebhookState({ webhook }: { webhook: Webhook }) {
  if (webhook.enabled) {
    return (
      <>
        <span className="status-succeeded">enabled</span>
        {webhook.consecutiveFailures > 0 && (
          <div className="hint">{failuresInARow(webhook.consecutiveFailures)}</div>
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
      <ErrorMessage error={deliveries.moreError} />
      {deliveries.cursor && (
        <p>
          <button type="button" onClick={() => void deliveries.more()} disabled={deliveries.busy}>
            More deliveries
          </button>
        </p>
      )}
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
