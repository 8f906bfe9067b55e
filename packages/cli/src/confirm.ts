import { CliUsageError } from './errors.ts';
import type { CliIo } from './io.ts';

/** A person answered no (or nothing) to a confirmation question; nothing was changed. Exit code 1. */
export class NotConfirmedError extends Error {
  override name = 'NotConfirmedError';
}

/** What {@link confirmOrRefuse} asks, and how to go ahead without being asked. */
export interface Confirmation {
  /** The question, without the `[y/N]` that is appended, e.g. "Delete environment dev of shop?". */
  question: string;
  /** The flag that skips the question: `--yes` on every command that asks. */
  flag: string;
  /** What would be done, for the messages, e.g. "delete environment dev of app shop". */
  action: string;
  /** The flag was given: go ahead without asking. */
  confirmed: boolean;
}

/**
 * Makes sure a person wants a destructive change before it is sent. Resolves at once when the skipping flag
 * was given. Otherwise, on a terminal, it asks the question (default no) and resolves on "y" or "yes"; any
 * other answer rejects with {@link NotConfirmedError}. Without a terminal to ask on (a script, CI) it rejects
 * with CliUsageError telling to pass the flag, so that a script never waits for an answer nobody will type
 * and never destroys anything it was not told to.
 */
export async function confirmOrRefuse(io: CliIo, confirmation: Confirmation): Promise<void> {
  if (confirmation.confirmed) return;
  if (!io.stdinIsTTY) {
    throw new CliUsageError(
      `refusing to ${confirmation.action} without confirmation: stdin is not a terminal, so pave cannot ` +
        `ask; pass ${confirmation.flag} to go ahead`,
    );
  }
  const answer = await io.ask(`${confirmation.question} [y/N] `);
  if (/^y(es)?$/i.test(answer.trim())) return;
  throw new NotConfirmedError(`cancelled: did not ${confirmation.action}`);
}
