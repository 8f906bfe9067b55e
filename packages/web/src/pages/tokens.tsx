import { useRef, useState, type FormEvent } from 'react';
import type { CreatedToken, TokenInfo, WhoAmI } from '@pave/core';
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
  focusedElement,
  shellWord,
  useAction,
  usePages,
} from '../components/common.tsx';
import { ChangePasswordForm } from '../components/password-form.tsx';

/** How long a new token may work: the choices of the form, each with its `pave tokens create --expires-in`. */
const LIFETIMES = [
  { flag: '1h', label: '1 hour', ms: 3_600_000 },
  { flag: '1d', label: '1 day', ms: 86_400_000 },
  { flag: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { flag: '30d', label: '30 days', ms: 30 * 86_400_000 },
  { flag: '90d', label: '90 days', ms: 90 * 86_400_000 },
  { flag: '365d', label: '1 year', ms: 365 * 86_400_000 },
] as const;

/**
 * The tokens and password page (`#/tokens`): the signed-in user's tokens (never their secret values) with a Revoke
 * button each, a form that creates one and shows it this once, and the form that changes the user's own
 * password (which revokes their other tokens). Everyone signed in may do this for themselves (`token.self`);
 * the page is reached from the main navigation. Those who may create tokens for others (`user.write`: admins)
 * may also show another user's or service account's tokens and revoke them (`pave tokens list --user`).
 */
export function TokensPage({ session }: { session: Session }) {
  const mayShowOthers = session.can('user.write');
  // Whose tokens are shown: '' for the signed-in user's own; what the "Show the tokens of" field asks for.
  const [owner, setOwner] = useState('');
  const [ownerField, setOwnerField] = useState('');
  // keepDepth: creating or revoking a token reloads as many pages as were shown.
  const tokens = usePages(
    (cursor) =>
      session.client.listTokens({ ...(owner ? { user: owner } : {}), ...(cursor ? { cursor } : {}) }),
    [session, owner],
    { keepDepth: true },
  );
  const listTitle = owner ? `Tokens of ${owner}` : 'Your tokens';
  const [revoking, setRevoking] = useState<TokenInfo | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = tokens.items ?? [];
  const own = session.whoami.token.id;

  return (
    <>
      <h1>Tokens and password</h1>
      <p className="muted">
        A token lets a script, a CI job or the <code>pave</code> command line act as you, with your roles or
        fewer. Pave keeps only a hash of each token, so a lost token cannot be shown again: revoke it and
        create another.
      </p>
      <Section title={listTitle}>
        {mayShowOthers && (
          <form
            className="form-row"
            onSubmit={(event) => {
              event.preventDefault();
              setRevoked(null);
              const asked = ownerField.trim();
              setOwner(asked === session.whoami.username ? '' : asked);
            }}
          >
            <label>
              Show the tokens of
              <input
                value={ownerField}
                onChange={(event) => setOwnerField(event.target.value)}
                placeholder={session.whoami.username}
                autoComplete="off"
              />
            </label>
            <button type="submit">Show</button>
          </form>
        )}
        <LoadStatus
          state={{ data: tokens.items && { items: tokens.items }, error: tokens.error }}
          what="tokens"
          empty={owner ? `${owner} has no tokens yet.` : 'No tokens yet.'}
        />
        {revoked && (
          <p className="notice" role="status">
            {revoked}
          </p>
        )}
        {items.length > 0 && (
          <table aria-label={listTitle}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                <th scope="col">Limited to</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((token) => {
                const status = tokenStatus(token);
                return (
                  <tr key={token.id}>
                    <th scope="row" className="row-head">
                      {token.name} <code className="muted">{token.id}</code>
                      {token.id === own && <span className="tag">this sign-in</span>}
                    </th>
                    <td>
                      <code>{token.prefix}…</code>
                    </td>
                    <td>
                      {token.scope ?? (
                        <span className="muted">everything {owner ? `${owner}'s` : 'your'} roles allow</span>
                      )}
                    </td>
                    <td className={status === 'active' ? 'status-succeeded' : 'muted'}>{status}</td>
                    <td>
                      <Time at={token.createdAt} />
                    </td>
                    <td>{token.expiresAt ? <Time at={token.expiresAt} /> : 'never'}</td>
                    <td>{token.lastUsedAt ? <Time at={token.lastUsedAt} /> : 'never'}</td>
                    <td>
                      {status !== 'revoked' && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Revoke token ${token.name} (${token.id})`}
                          onClick={() => {
                            setRevoked(null);
                            opener.current = focusedElement();
                            setRevoking(token);
                          }}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <MorePages pages={tokens} label="More tokens" />
        <Command>{`pave tokens list${owner ? ` --user ${shellWord(owner)}` : ''}`}</Command>
      </Section>
      <CreateToken session={session} onCreated={tokens.reload} />
      <Section title="Your password">
        <p className="muted">
          Changing it revokes every other token of yours, so whoever knew the old password (or holds one of
          those tokens) is signed out; this tab stays signed in.
        </p>
        {/* The revoked tokens show as such in the list above. */}
        <ChangePasswordForm session={session} onChanged={tokens.reload} />
      </Section>
      {revoking && (
        <RevokeToken
          session={session}
          token={revoking}
          onDone={() => {
            setRevoking(null);
            if (revoking.id === own) {
              // This tab's own token works no more: the tab is signed out, as after "Sign out".
              session.signOut();
              return;
            }
            setRevoked(`Revoked token ${revoking.name}${owner ? ` of ${owner}` : ''}; it no longer works.`);
            tokens.reload();
          }}
          onCancel={() => {
            setRevoking(null);
            opener.current?.focus();
          }}
        />
      )}
    </>
  );
}

/** Whether a token still works: the server refuses revoked and expired ones. */
function tokenStatus(token: TokenInfo, now = Date.now()): 'active' | 'expired' | 'revoked' {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

/**
 * The scopes the signed-in user may limit a token to: each app or org role they hold, written as the API wants
 * it (environment-type roles scope no token: an app scope carries the deployer ones).
 */
function scopesHeld(whoami: WhoAmI): string[] {
  const texts = whoami.grants.flatMap((grant) =>
    grant.scope.kind === 'org'
      ? [`org:${grant.role}`]
      : grant.scope.kind === 'app'
        ? [`app:${grant.scope.id ?? ''}:${grant.role}`]
        : [],
  );
  return [...new Set(texts)].sort();
}

/** The create-token fields a server problem can point at, named for people. */
const CREATE_TOKEN_FIELDS: Record<string, string> = {
  '/name': 'the name',
  '/expiresAt': 'the expiry',
  '/scope': 'the limit',
  '/user': 'the user',
};

function CreateToken({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [name, setName] = useState('');
  // A LIFETIMES flag, or '' for the default: when this sign-in's token expires (never for one without expiry).
  const [lifetime, setLifetime] = useState('');
  const [scope, setScope] = useState('');
  const [user, setUser] = useState('');
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const action = useAction();
  const mayChooseUser = session.can('user.write');
  // A token cannot outlive the token that creates it: only the lifetimes that end before this sign-in does.
  const signInEnds = session.whoami.token.expiresAt;
  const lifetimes = LIFETIMES.filter(
    (choice) => signInEnds === null || Date.now() + choice.ms < Date.parse(signInEnds),
  );
  const chosen = lifetimes.find((choice) => choice.flag === lifetime);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    void action.run(async () => {
      const token = await session.client.createToken({
        name: name.trim(),
        ...(chosen ? { expiresAt: new Date(Date.now() + chosen.ms).toISOString() } : {}),
        ...(scope.trim() ? { scope: scope.trim() } : {}),
        ...(mayChooseUser && user.trim() ? { user: user.trim() } : {}),
      });
      setCreated(token);
      setName('');
      setScope('');
      setUser('');
      onCreated();
    });
  };

  const command =
    `pave tokens create ${shellWord(name.trim() || 'NAME')}` +
    (chosen ? ` --expires-in ${chosen.flag}` : '') +
    (scope.trim() ? ` --scope ${shellWord(scope.trim())}` : '') +
    (mayChooseUser && user.trim() ? ` --user ${shellWord(user.trim())}` : '');
  const fields = fieldProblems(action.error, CREATE_TOKEN_FIELDS);
  const ownScope = session.whoami.token.scope;

  return (
    <Section title="Create token">
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Name
              <input
                value={name}
                onChange={(event) => setName(event.target.value)}
                required
                maxLength={100}
                placeholder="e.g. ci"
                autoComplete="off"
                {...fields.describe('/name', 'create-token-name-error', 'create-token-name-hint')}
              />
            </label>
            <FieldError id="create-token-name-error" messages={fields.at('/name')} />
            <span id="create-token-name-hint" className="hint">
              What it is for, to recognise it in the list.
            </span>
          </div>
          <div className="field">
            <label>
              Expires
              <select
                value={chosen ? lifetime : ''}
                onChange={(event) => setLifetime(event.target.value)}
                {...fields.describe('/expiresAt', 'create-token-expiry-error', 'create-token-expiry-hint')}
              >
                <option value="">
                  {signInEnds ? `When this sign-in ends (${new Date(signInEnds).toLocaleString()})` : 'Never'}
                </option>
                {lifetimes.map((choice) => (
                  <option key={choice.flag} value={choice.flag}>
                    In {choice.label}
                  </option>
                ))}
              </select>
            </label>
            <FieldError id="create-token-expiry-error" messages={fields.at('/expiresAt')} />
            {signInEnds && (
              <span id="create-token-expiry-hint" className="hint">
                A token cannot outlive the sign-in that creates it.
              </span>
            )}
          </div>
          <div className="field">
            <label>
              Limit to (optional)
              <input
                value={scope}
                onChange={(event) => setScope(event.target.value)}
                list="token-scopes"
                placeholder={ownScope ? undefined : 'e.g. app:shop:viewer'}
                autoComplete="off"
                {...fields.describe('/scope', 'create-token-scope-error', 'create-token-scope-hint')}
              />
            </label>
            <FieldError id="create-token-scope-error" messages={fields.at('/scope')} />
            <span id="create-token-scope-hint" className="hint">
              One of your roles, e.g. app:shop:viewer (the suggestions are those you hold). Left empty, it may
              do {ownScope ? 'what this sign-in may' : 'everything your roles allow'}.
            </span>
          </div>
          {mayChooseUser && (
            <div className="field">
              <label>
                For user or service account (optional)
                <input
                  value={user}
                  onChange={(event) => setUser(event.target.value)}
                  placeholder={session.whoami.username}
                  autoComplete="off"
                  {...fields.describe('/user', 'create-token-user-error', 'create-token-user-hint')}
                />
              </label>
              <FieldError id="create-token-user-error" messages={fields.at('/user')} />
              <span id="create-token-user-hint" className="hint">
                Left empty, the token is yours. To list another user&apos;s tokens, show them above.
              </span>
            </div>
          )}
        </div>
        <datalist id="token-scopes">
          {scopesHeld(session.whoami).map((text) => (
            <option key={text} value={text} />
          ))}
        </datalist>
        <button type="submit" className="primary" disabled={action.busy}>
          Create token
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {created && (
        <NewToken
          token={created}
          forOther={created.username !== session.whoami.username}
          onDone={() => setCreated(null)}
        />
      )}
      <Command>{command}</Command>
    </Section>
  );
}

/** A token just created, shown this once with how to keep it, until "Done". */
function NewToken({
  token,
  forOther,
  onDone,
}: {
  token: CreatedToken;
  forOther: boolean;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () => {
    // Browsers offer the clipboard only to pages served over HTTPS or from this machine.
    if (!window.isSecureContext || !('clipboard' in navigator)) {
      setCopied('failed');
      return;
    }
    navigator.clipboard.writeText(token.token).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  return (
    <div className="notice" role="status" aria-label={`New token ${token.name}`}>
      <p>
        Created token <strong>{token.name}</strong> ({token.id}
        {forOther ? `, of ${token.username}` : ''}
        {token.scope ? `, limited to ${token.scope}` : ''}, expires{' '}
        {token.expiresAt ? <Time at={token.expiresAt} /> : 'never'}).
      </p>
      <div className="form-row">
        <label>
          Token
          <input
            readOnly
            value={token.token}
            onFocus={(event) => event.target.select()}
            aria-describedby="new-token-hint"
            className="mono"
          />
        </label>
        <button type="button" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p id="new-token-hint">
        <strong>Copy it now</strong>: Pave keeps only a hash of it, so it will not be shown again.
        {copied === 'failed' && ' The browser did not let the page copy it: select it and copy it yourself.'}
      </p>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

/** Asks before revoking a token, then revokes it; revoking this sign-in's own token signs the tab out. */
function RevokeToken({
  session,
  token,
  onDone,
  onCancel,
}: {
  session: Session;
  token: TokenInfo;
  onDone: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmAction
      title="Revoke token?"
      confirmLabel="Revoke token"
      busyLabel="Revoking…"
      action={() => session.client.revokeToken(token.id)}
      onDone={onDone}
      onCancel={onCancel}
      command={`pave tokens revoke ${token.id}`}
    >
      <p>
        Revoke token <strong>{token.name}</strong> ({token.id}
        {token.username === session.whoami.username ? '' : `, of ${token.username}`})? Whatever uses it is
        refused from now on.
      </p>
      {token.id === session.whoami.token.id && (
        <p>
          <strong>This tab signed in with it:</strong> revoking it signs you out here.
        </p>
      )}
    </ConfirmAction>
  );
}
