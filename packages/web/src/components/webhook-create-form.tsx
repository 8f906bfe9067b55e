import { useState, type FormEvent } from 'react';
import { EVENT_TYPES, isApplessEventType, type CreatedWebhook, type EventType } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, FieldError, fieldProblems, shellWord, useAction } from './common.tsx';

/** How the create form names its fields in the server's problems. */
const CREATE_FIELDS = { '/name': 'the name', '/url': 'the URL', '/events': 'the event types' } as const;

/**
 * The event types a webhook of `app` can receive, in EVENT_TYPES order: every type for an org-wide webhook
 * (`app` null), the types of app events for an app's. `kept` (an existing webhook's types) stay offered
 * whatever its scope, so that a form never hides a type the webhook already has.
 */
export function webhookEventTypes(app: string | null, kept: readonly EventType[] = []): EventType[] {
  return EVENT_TYPES.filter((type) => app === null || !isApplessEventType(type) || kept.includes(type));
}

/** The `--app APP` of a `pave webhooks` command for a webhook of `app`; nothing for an org-wide one. */
export function appFlag(app: string | null): string {
  return app === null ? '' : ` --app ${app}`;
}

/**
 * The form that creates a webhook of `app`, or an org-wide one when `app` is null: a name, a URL and the
 * event types it receives (every one unless narrowed). Once created, its signing secret is shown this once,
 * until "Done".
 */
export function WebhookCreateForm({
  session,
  app,
  onCreated,
}: {
  session: Session;
  app: string | null;
  onCreated: () => void;
}) {
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [every, setEvery] = useState(true);
  const [types, setTypes] = useState<EventType[]>([]);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const action = useAction();
  const events = every ? undefined : EVENT_TYPES.filter((type) => types.includes(type));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    void action.run(async () => {
      if (events?.length === 0) throw new Error('Choose at least one event type, or "Every event type".');
      const made = await session.client.createWebhook({
        name: name.trim(),
        url: url.trim(),
        ...(app === null ? {} : { app }),
        ...(events ? { events } : {}),
      });
      setCreated(made);
      setName('');
      setUrl('');
      setEvery(true);
      setTypes([]);
      onCreated();
    });
  };

  const fields = fieldProblems(action.error, CREATE_FIELDS);
  const command =
    `pave webhooks create ${shellWord(name.trim() || 'NAME')} --url URL${appFlag(app)}` +
    (events?.length ? ` --events ${events.join(',')}` : '');

  return (
    <div className="webhook-create">
      <h3>Create webhook</h3>
      <form onSubmit={submit} aria-label="Create webhook">
        <div className="form-row">
          <div className="field">
            <label>
              Name
              <input
                name="name"
                value={name}
                onChange={(event) => setName(event.target.value)}
                required
                placeholder="e.g. ci"
                autoComplete="off"
                {...fields.describe('/name', 'create-webhook-name-error')}
              />
            </label>
            <FieldError id="create-webhook-name-error" messages={fields.at('/name')} />
          </div>
          <div className="field">
            <label>
              URL
              <input
                name="url"
                type="url"
                value={url}
                onChange={(event) => setUrl(event.target.value)}
                required
                placeholder="https://ci.example.com/pave"
                autoComplete="off"
                {...fields.describe('/url', 'create-webhook-url-error', 'create-webhook-url-hint')}
              />
            </label>
            <span id="create-webhook-url-hint" className="hint">
              Where each event is sent (POST), signed so that the receiver can check it came from Pave.
            </span>
            <FieldError id="create-webhook-url-error" messages={fields.at('/url')} />
          </div>
        </div>
        <EventTypesField
          radioName="create-every"
          errorId="create-webhook-events-error"
          offered={webhookEventTypes(app)}
          errors={fields.at('/events')}
          every={every}
          onEvery={setEvery}
          types={types}
          onTypes={setTypes}
        />
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Creating…' : 'Create webhook'}
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {created && <FirstSecret created={created} onDone={() => setCreated(null)} />}
      {/* Not the URL itself: it may carry credentials, which the page shows nowhere else. */}
      <Command>{command}</Command>
    </div>
  );
}

/** A new webhook's signing secret, shown this once with what to do with it, until "Done". */
function FirstSecret({ created, onDone }: { created: CreatedWebhook; onDone: () => void }) {
  return (
    <div className="notice" role="status" aria-label={`Signing secret of ${created.webhook.name}`}>
      <p>
        Created webhook {created.webhook.name}. Its signing secret: <code>{created.secret}</code>
      </p>
      <p>
        <strong>Copy it now</strong> into the receiver, which checks every delivery with it: it is shown only
        this once.
      </p>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/**
 * The event types a webhook receives, as its create and edit forms ask for them: every type, or only those
 * of `offered` ticked; the server's problems with `/events` under them.
 */
export function EventTypesField({
  radioName,
  errorId,
  offered,
  errors,
  every,
  onEvery,
  types,
  onTypes,
}: {
  radioName: string;
  errorId: string;
  /** The types to choose from (see webhookEventTypes). */
  offered: readonly EventType[];
  errors: string[];
  every: boolean;
  onEvery: (every: boolean) => void;
  types: EventType[];
  onTypes: (change: (chosen: EventType[]) => EventType[]) => void;
}) {
  const toggle = (type: EventType, on: boolean) =>
    onTypes((chosen) => (on ? [...chosen, type] : chosen.filter((t) => t !== type)));
  return (
    <fieldset aria-describedby={errors.length > 0 ? errorId : undefined}>
      <legend>Event types</legend>
      <label className="checkbox">
        <input
          type="radio"
          name={radioName}
          checked={every}
          onChange={(event) => onEvery(event.target.checked)}
        />
        Every event type
      </label>
      <label className="checkbox">
        <input
          type="radio"
          name={radioName}
          checked={!every}
          onChange={(event) => onEvery(!event.target.checked)}
        />
        Only these:
      </label>
      <div className="event-type-grid">
        {offered.map((type) => (
          <label key={type} className="checkbox">
            <input
              type="checkbox"
              name="events"
              value={type}
              checked={types.includes(type)}
              disabled={every}
              onChange={(event) => toggle(type, event.target.checked)}
            />
            {type}
          </label>
        ))}
      </div>
      <FieldError id={errorId} messages={errors} />
    </fieldset>
  );
}
