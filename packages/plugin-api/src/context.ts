/**
 * The logger a driver writes to; the control plane adds the deployment and step to every line a deployment's
 * calls write. While a deployment provisions or prunes resources (or, failed, deletes those it created), the
 * info, warn and error lines of resource drivers also land in its journal (`pave deployments get`): the message
 * only, prefixed with a string `address` field when the line has one; in its runtime phases (start, wait
 * ready, …, and a failed first deployment's stopping what it started) the warn and error lines of the runtime
 * driver do. Keep secrets out of messages (mask them); fields go only to the control plane's log.
 */
export interface DriverLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The one object every driver call receives (like Backstage's scaffolder ActionContext): where to log,
 * when to stop, where to put scratch files, and whether to change anything. A deployment resumed after a crash
 * does not repeat finished work through the context: the control plane records every resource it created or
 * updated in its store, and of those recorded as done it only `read`s each (as every deployment reads the
 * resources it keeps, to find one gone behind its back) and changes nothing; it creates or updates only what
 * is not recorded as done.
 */
export interface DriverContext {
  logger: DriverLogger;
  /**
   * Aborted when the call's time is up (a deployment's timeout, say) or the control plane stops or loses the
   * environment's lease; drivers stop promptly and clean up. (A deployment cannot be cancelled once it runs.)
   */
  signal: AbortSignal;
  /**
   * A scratch directory of the control-plane step making the call (a deployment's phase, say), removed when
   * the step ends. The calls of one step share it, and may run at once: make a sub-directory of your own
   * (mkdtemp) for each call.
   */
  scratchDir: string;
  /** When true, report what would change and change nothing. */
  dryRun: boolean;
  /**
   * Resource driver calls only: the state store of the one resource the call is about, served by the control
   * plane (`pave up` serves one; see {@link ResourceStateBackend}). A driver that keeps state elsewhere ignores
   * it; a driver that needs it fails with a clear message when it is absent.
   */
  stateBackend?: ResourceStateBackend;
}

/**
 * A resource's own state store, kept by the control plane in its store (encrypted with the environment's data
 * key, so it moves with the control plane and every replica sees it). It speaks Terraform's `http` backend
 * protocol: GET `address` reads the state (204 with no body when there is none, which Terraform takes as no
 * state, as it does a 404), POST writes it, DELETE removes it, and the LOCK / UNLOCK methods on `lockAddress`
 * / `unlockAddress` take and release its lock (a held lock answers 423 with the holder's lock info). Writes
 * while the lock is held must carry `?ID=<lock id>`.
 */
export interface ResourceStateBackend {
  address: string;
  lockAddress: string;
  unlockAddress: string;
  /**
   * HTTP basic credentials good for this resource's state only, and only while the driver call they were
   * given to runs (the control plane hands out a fresh pair with every driver call).
   */
  username: string;
  password: string;
}
