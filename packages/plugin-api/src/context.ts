/** The logger a driver writes to; the control plane adds the deployment and step to every line. */
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
 * updated in its store and calls a driver again only for what is not recorded as done.
 */
export interface DriverContext {
  logger: DriverLogger;
  /** Aborted when the deployment is cancelled or times out; drivers stop promptly and clean up. */
  signal: AbortSignal;
  /** A directory private to this call, removed afterwards. */
  scratchDir: string;
  /** When true, report what would change and change nothing. */
  dryRun: boolean;
}
