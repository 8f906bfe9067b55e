/** The logger a driver writes to; the control plane adds the deployment and step to every line. */
export interface DriverLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The one object every driver call receives (like Backstage's scaffolder ActionContext): where to log,
 * when to stop, where to put scratch files, how to make a step idempotent, and whether to change anything.
 */
export interface DriverContext {
  logger: DriverLogger;
  /** Aborted when the deployment is cancelled or times out; drivers stop promptly and clean up. */
  signal: AbortSignal;
  /** A directory private to this call, removed afterwards. */
  scratchDir: string;
  /**
   * Runs `fn` once per `key` within a deployment and remembers its JSON result, so a retried deployment
   * skips steps that already succeeded.
   */
  checkpoint<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** When true, report what would change and change nothing. */
  dryRun: boolean;
}
