import { useState, type FormEvent, type KeyboardEvent, type Ref } from 'react';
import { PASSWORD_RULE, type FieldProblem, type PasswordChanged } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ErrorMessage,
  FieldError,
  fieldProblems,
  problemsOf,
  useAction,
  type FieldProblems,
} from './common.tsx';
import { asSentence } from './problem-text.ts';

/**
 * The change-password fields a server problem can point at, named for people (the current password's
 * problems read better as currentPasswordSentence words them).
 */
const CHANGE_PASSWORD_FIELDS = {
  '/currentPassword': 'your current password',
  '/password': 'the new password',
} as const;

/** What the form says when the new password and its repeat differ; nothing is sent then. */
export const PASSWORDS_DIFFER =
  'The two passwords differ; nothing was sent. Type the same new password twice.';

/**
 * The signed-in user's "Change password" form (`PUT /users/{username}/password`, as `pave users set-password`
 * does): the current password (asked only of a user who has one: an SSO user or the first admin may have none
 * yet, as `GET /whoami` says), and the new one twice. The two new ones must match before anything is sent. The server keeps the token of this tab
 * working and revokes every other token of the user; `onChanged` is called with its answer once it did.
 *
 * Only an unscoped or org:admin token may change a password: with any other, the form is replaced by a note
 * saying so; for a service account, which has no password, by a note saying that.
 */
export function ChangePasswordForm({
  session,
  onChanged,
}: {
  session: Session;
  onChanged: (changed: PasswordChanged) => void;
}) {
  const [currentPassword, setCurrentPassword] = useState('');
  const newPassword = useNewPassword();
  const [changed, setChanged] = useState<PasswordChanged | null>(null);
  const action = useAction();
  const { username, token, kind } = session.whoami;
  // Known at sign-in; true once this form set one.
  const [hasPassword, setHasPassword] = useState(session.whoami.hasPassword);
  // The server refuses a password change through a token limited to anything but org:admin.
  const scope = token.scope;
  const limited = scope !== null && !(scope.scope.kind === 'org' && scope.role === 'admin');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChanged(null);
    if (!newPassword.matches(action)) return;
    void action.run(async () => {
      const answer = await session.client.setPassword(username, {
        password: newPassword.password,
        ...(currentPassword ? { currentPassword } : {}),
      });
      setChanged(answer);
      setHasPassword(true);
      setCurrentPassword('');
      newPassword.reset();
      onChanged(answer);
    });
  };

  if (kind === 'service') {
    return (
      <p className="muted">
        {username} is a service account: it signs in with tokens only and has no password. Create and revoke
        its tokens above.
      </p>
    );
  }

  if (limited) {
    return (
      <>
        <p className="muted">
          This tab&apos;s token is limited to {scope.via.replace(/^token scope /, '')}: a password can be
          changed only with an unscoped token. Sign in with your password (or SSO) to change it here.
        </p>
        <Command>pave users set-password</Command>
      </>
    );
  }

  const fields = fieldProblems(action.error, CHANGE_PASSWORD_FIELDS);
  const currentProblems = problemsOf(action.error)
    .filter((problem) => problem.path === '/currentPassword')
    .map(currentPasswordSentence);

  return (
    <>
      <form onSubmit={submit} aria-label="Change password">
        {/* For password managers: the account whose password this is. */}
        <input type="text" name="username" value={username} autoComplete="username" readOnly hidden />
        <div className="form-row">
          {/* Also when the server asks for it: someone may have set a password since this tab signed in. */}
          {(hasPassword || currentProblems.length > 0) && (
            <div className="field">
              <label>
                Current password
                <input
                  type="password"
                  name="current-password"
                  value={currentPassword}
                  onChange={(event) => setCurrentPassword(event.target.value)}
                  required
                  autoComplete="current-password"
                  {...fields.describe(
                    '/currentPassword',
                    'change-password-current-error',
                    'change-password-current-hint',
                  )}
                />
              </label>
              <FieldError id="change-password-current-error" messages={currentProblems} />
              <span id="change-password-current-hint" className="hint">
                The one you sign in with now.
              </span>
            </div>
          )}
          <NewPasswordFields idPrefix="change-password" entry={newPassword} fields={fields} />
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {changed && (
        <p className="notice" role="status">
          {passwordChangedSentence(changed)}
        </p>
      )}
      {/* The CLI asks for the passwords on a terminal: they are never part of a command. */}
      <Command>pave users set-password</Command>
    </>
  );
}

/**
 * A current-password problem as a sentence under that field: "That is not your current password; …" for a
 * wrong one, the server's advice as it stands ("Give your current password; …") for a missing one.
 */
function currentPasswordSentence(problem: FieldProblem): string {
  return asSentence(/^is\b/.test(problem.message) ? `that ${problem.message}` : problem.message);
}

/** What the notice says once the user's own password changed: how many other tokens were revoked. */
function passwordChangedSentence({ tokensRevoked: count }: PasswordChanged): string {
  const revoked =
    count === 0
      ? 'you had no other token to revoke'
      : `${count} other ${count === 1 ? 'token' : 'tokens'} of yours ${count === 1 ? 'was' : 'were'} revoked`;
  return `Changed your password; ${revoked}. This tab stays signed in.`;
}

/** A new password typed twice (useNewPassword), for NewPasswordFields. */
export type NewPasswordEntry = ReturnType<typeof useNewPassword>;

/**
 * The state of a new password typed twice: `differ` once `matches` found the two differ, until the repeat is
 * typed again. `matches(action)` says whether they match and, when not, forgets `action`'s earlier error, so
 * only the mismatch is said.
 */
export function useNewPassword() {
  const [password, setPassword] = useState('');
  const [repeat, setRepeatText] = useState('');
  const [differ, setDiffer] = useState(false);
  return {
    password,
    repeat,
    differ,
    setPassword,
    setRepeat(value: string) {
      setRepeatText(value);
      setDiffer(false);
    },
    matches(action: { clear(): void }): boolean {
      const same = password === repeat;
      setDiffer(!same);
      if (!same) action.clear();
      return same;
    },
    reset() {
      setPassword('');
      setRepeatText('');
    },
  };
}

/**
 * The new password and its repeat, as both password forms ask for them (ids `<idPrefix>-new-…` and
 * `<idPrefix>-repeat-error`): the server's problems with the new one under it, with the rule as a hint, and
 * PASSWORDS_DIFFER under the repeat when `differ`. `onKeyDown` and `firstRef` are for a dialog, which has no
 * form to submit and focuses its first field.
 */
export function NewPasswordFields({
  idPrefix,
  entry: { password, repeat, differ, setPassword, setRepeat },
  fields,
  onKeyDown,
  firstRef,
}: {
  idPrefix: string;
  entry: NewPasswordEntry;
  fields: FieldProblems;
  onKeyDown?: (event: KeyboardEvent) => void;
  firstRef?: Ref<HTMLInputElement>;
}) {
  return (
    <>
      <div className="field">
        <label>
          New password
          <input
            type="password"
            name="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            onKeyDown={onKeyDown}
            required
            autoComplete="new-password"
            ref={firstRef}
            {...fields.describe('/password', `${idPrefix}-new-error`, `${idPrefix}-new-hint`)}
          />
        </label>
        <FieldError id={`${idPrefix}-new-error`} messages={fields.at('/password')} />
        <span id={`${idPrefix}-new-hint`} className="hint">
          It {PASSWORD_RULE}.
        </span>
      </div>
      <div className="field">
        <label>
          Repeat new password
          <input
            type="password"
            name="repeat-password"
            value={repeat}
            onChange={(event) => setRepeat(event.target.value)}
            onKeyDown={onKeyDown}
            required
            autoComplete="new-password"
            aria-invalid={differ}
            aria-describedby={differ ? `${idPrefix}-repeat-error` : undefined}
          />
        </label>
        <FieldError id={`${idPrefix}-repeat-error`} messages={differ ? [PASSWORDS_DIFFER] : []} />
      </div>
    </>
  );
}
