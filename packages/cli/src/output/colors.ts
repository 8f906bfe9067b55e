import picocolors from 'picocolors';

/** The colour functions the CLI uses; all identity functions when colour is off. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** A stream the CLI writes to: process.stdout, process.stderr, or a test double. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Whether to colour what goes to `stream`: only when it is a terminal, never when NO_COLOR is set to a
 * non-empty value (https://no-color.org) or TERM is "dumb"; FORCE_COLOR (not "0") turns it on anyway.
 * Decided per stream, so `pave apps list | less` stays plain while errors on the terminal are still red.
 */
export function colorEnabled(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Colour functions for `stream` (see {@link colorEnabled}). */
export function colorsFor(stream: OutputStream, env: Record<string, string | undefined>): Colors {
  return picocolors.createColors(colorEnabled(stream, env));
}
