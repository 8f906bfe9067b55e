import { SYSTEM_ACTORS } from '@pave/core';
import type { Store } from '../store/index.ts';
import { recordAudit, type AuditRecord } from './audit.ts';
import { now, systemContext, type Actor } from './context.ts';

/** Refusals are counted over this window, then written: one entry per kind of refusal per window. */
export const REFUSAL_WINDOW_MS = 60_000;
/** At most this many kinds of refusal get an entry each per window; the rest share one overflow entry. */
export const REFUSAL_KINDS_PER_WINDOW = 100;

/** A request refused for want of a permission (403). */
export interface AccessRefusal {
  actor: Pick<Actor, 'userId' | 'username'>;
  /** The permission that was missing, e.g. `values.reveal`. */
  permission: string;
  /** Why, as the caller was told. */
  reason: string;
  /** What the request was about: its path under /api/v1, e.g. `apps/shop/values`. */
  target: string;
  appId: string | null;
  method: string;
  requestId: string;
}

/** A login that failed: wrong password, unknown user, or an account without a password. */
export interface LoginFailure {
  username: string;
  clientAddress: string;
  requestId: string;
}

/** An SSO sign-in that was refused: a bad or replayed state, an ID token that did not validate, … */
export interface SsoFailure {
  /** What was wrong, as the user was told. */
  reason: string;
  clientAddress: string;
  requestId: string;
}

/** What the recorder does with an error writing to the store: the entries of that window are lost. */
export type RefusalWriteErrorHandler = (error: unknown, refusals: number) => void;

interface Tally {
  actor: { userId: string; username: string };
  record: AuditRecord;
  count: number;
  firstAt: string;
  lastAt: string;
  firstRequestId: string;
  lastRequestId: string;
}

/** Only so much of what a caller sent goes into the log. */
const MAX_TEXT = 200;

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/**
 * Records refused requests (`access.denied`), failed logins (`auth.login-failed`) and refused SSO sign-ins
 * (`auth.sso-failed`) in the audit log
 * without letting a flood of them flood the log: refusals are counted in memory per kind (actor, permission
 * and target; or username and client address) and written when the window (a minute) ends, one entry per
 * kind with how many there were, when, and the first and last request ids. Past 100 kinds in one window,
 * further kinds are counted in one overflow entry per action, so a window writes at most 102 entries.
 *
 * Refusals are only ever counted, never awaited, so recording one never slows or fails the request. What
 * is counted but not yet written is lost if the process dies; the API writes it with flush() as it shuts down.
 * Nothing a caller sent beyond names and addresses (never a password, a token or a body) is recorded.
 */
export class RefusalRecorder {
  private tallies = new Map<string, Tally>();
  private overflow = new Map<string, Tally>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private onWriteError: RefusalWriteErrorHandler = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly options: { windowMs?: number; kindsPerWindow?: number } = {},
  ) {}

  /** Where errors writing a window's entries are reported (the server's log). */
  reportWriteErrorsTo(handler: RefusalWriteErrorHandler): void {
    this.onWriteError = handler;
  }

  /** Counts a request refused for want of a permission. */
  accessDenied(refusal: AccessRefusal): void {
    const target = clip(refusal.target);
    this.count(
      ['access.denied', refusal.actor.username, refusal.permission, target].join('\n'),
      { userId: refusal.actor.userId, username: refusal.actor.username },
      {
        action: 'access.denied',
        target,
        appId: refusal.appId,
        summary: { permission: refusal.permission, reason: clip(refusal.reason), method: refusal.method },
      },
      refusal.requestId,
    );
  }

  /** Counts a failed login. */
  loginFailed(failure: LoginFailure): void {
    const username = clip(failure.username);
    const clientAddress = clip(failure.clientAddress);
    this.count(
      ['auth.login-failed', username, clientAddress].join('\n'),
      { userId: '', username: 'anonymous' },
      {
        action: 'auth.login-failed',
        target: `users/${username}`,
        summary: { username, clientAddress },
      },
      failure.requestId,
    );
  }

  /** Counts a refused SSO sign-in. */
  ssoFailed(failure: SsoFailure): void {
    const reason = clip(failure.reason);
    const clientAddress = clip(failure.clientAddress);
    this.count(
      ['auth.sso-failed', reason, clientAddress].join('\n'),
      { userId: '', username: 'anonymous' },
      { action: 'auth.sso-failed', target: 'auth/sso', summary: { reason, clientAddress } },
      failure.requestId,
    );
  }

  /** Writes what was counted so far now, ending the window; resolves when it is written (or failed). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const tallies = [...this.tallies.values(), ...this.overflow.values()];
    this.tallies = new Map();
    this.overflow = new Map();
    if (tallies.length === 0) return this.writing;
    this.writing = this.writing.then(() => this.write(tallies));
    return this.writing;
  }

  private count(key: string, actor: Tally['actor'], record: AuditRecord, requestId: string): void {
    const at = now();
    let tally = this.tallies.get(key);
    if (!tally && this.tallies.size >= (this.options.kindsPerWindow ?? REFUSAL_KINDS_PER_WINDOW)) {
      tally = this.overflow.get(record.action);
      if (!tally) {
        tally = this.newTally(
          { userId: '', username: SYSTEM_ACTORS.pave },
          overflowRecord(record.action),
          at,
          requestId,
        );
        this.overflow.set(record.action, tally);
      }
    } else if (!tally) {
      tally = this.newTally(actor, record, at, requestId);
      this.tallies.set(key, tally);
    }
    tally.count += 1;
    tally.lastAt = at;
    tally.lastRequestId = requestId;
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.windowMs ?? REFUSAL_WINDOW_MS);
      // A pending window never keeps the process alive; shutting down writes it (flush()).
      this.timer.unref();
    }
  }

  private newTally(actor: Tally['actor'], record: AuditRecord, at: string, requestId: string): Tally {
    return {
      actor,
      record,
      count: 0,
      firstAt: at,
      lastAt: at,
      firstRequestId: requestId,
      lastRequestId: requestId,
    };
  }

  private async write(tallies: Tally[]): Promise<void> {
    const refusals = tallies.reduce((sum, tally) => sum + tally.count, 0);
    try {
      await this.store.transaction(async (tx) => {
        for (const tally of tallies) {
          await recordAudit(
            tx,
            systemContext(tally.actor.username, tally.firstRequestId, tally.actor.userId),
            {
              ...tally.record,
              summary: {
                ...tally.record.summary,
                count: tally.count,
                firstAt: tally.firstAt,
                lastAt: tally.lastAt,
                lastRequestId: tally.lastRequestId,
              },
            },
          );
        }
      });
    } catch (error) {
      this.onWriteError(error, refusals);
    }
  }
}

function overflowRecord(action: string): AuditRecord {
  return {
    action,
    target: 'refusals',
    summary: {
      overflow: true,
      note: 'more kinds of refusal in this window than the log keeps an entry each for; these were only counted',
    },
  };
}

const recorders = new WeakMap<Store, RefusalRecorder>();

/** The refusal recorder of a store: one per store in a process, made on first use. */
export function refusalsFor(store: Store): RefusalRecorder {
  let recorder = recorders.get(store);
  if (!recorder) {
    recorder = new RefusalRecorder(store);
    recorders.set(store, recorder);
  }
  return recorder;
}
