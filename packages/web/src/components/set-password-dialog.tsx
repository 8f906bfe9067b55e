import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { PasswordChanged } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, Confirm, ErrorMessage, fieldProblems, useAction } from './common.tsx';
import { NewPasswordFields, useNewPassword } from './password-form.tsx';

/**
 * The dialog in which an admin (`user.write`) sets another user's password, as `pave users set-password NAME`
 * does: the new password twice, which must match before anything is sent. Every token of the user is
 * revoked, as the dialog says; `onDone` gets the server's answer (how many). A refusal stands in the dialog,
 * which stays open; the server's problem with the password stands under its field.
 */
export function SetPasswordDialog({
  session,
  username,
  onDone,
  onCancel,
}: {
  session: Session;
  username: string;
  onDone: (changed: PasswordChanged) => void;
  onCancel: () => void;
}) {
  const newPassword = useNewPassword();
  const { password, repeat } = newPassword;
  const action = useAction();
  // Typing starts in the first field (Confirm's own autoFocus would put it on the button).
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const fields = fieldProblems(action.error, { '/password': 'the new password' });

  const confirm = () => {
    const empty = password === '' || repeat === '';
    if (action.busy || empty) return;
    if (!newPassword.matches(action)) return;
    void action.run(async () => onDone(await session.client.setPassword(username, { password })));
  };
  const onEnter = (event: KeyboardEvent) => {
    if (event.key === 'Enter') confirm();
  };

  return (
    <Confirm
      title={`Set password of ${username}`}
      confirmLabel={action.busy ? 'Setting…' : 'Set password'}
      confirmDisabled={password === '' || repeat === ''}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      <p>
        Set a new password for <strong>{username}</strong>. Every token of theirs is revoked at once, so they
        are signed out everywhere and sign in again with this password. Pave does not send it to them: tell
        them yourself.
      </p>
      <div className="form-row">
        <NewPasswordFields
          idPrefix="set-password"
          entry={newPassword}
          fields={fields}
          onKeyDown={onEnter}
          firstRef={first}
        />
      </div>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {/* The CLI asks for the password on a terminal: it is never part of the command. */}
      <Command>{`pave users set-password ${username}`}</Command>
    </Confirm>
  );
}
