/** Options for {@link escapeControlCharacters}. */
export interface EscapeOptions {
  /** Leave line feeds and tabs alone (multi-line text, where the line breaks are meant). */
  keepLineBreaks?: boolean;
  /**
   * Leave SGR sequences (`ESC [ … m`, colours and bold) alone: for text the CLI coloured itself. They can
   * only change how text looks, never move the cursor, clear the screen or set the window title.
   */
  keepColors?: boolean;
}

// An SGR sequence, or one character to escape: C0, DEL, C1, or a lone surrogate.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /(\u001b\[[0-9;]*m)|[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from the server made safe to print for people: control characters (C0, DEL, C1) and lone surrogates
 * become visible escapes — `\x1b`, `\x00`, `\r`, `\u{d800}` — so a name cannot move the cursor, clear the
 * screen, set the window title or hide what is printed after it. Printable text, emoji and accents pass
 * unchanged. JSON output needs none of this: JSON escapes control characters itself.
 */
export function escapeControlCharacters(text: string, options: EscapeOptions = {}): string {
  return text.replace(UNSAFE, (match, sgr: string | undefined) => {
    if (sgr !== undefined && options.keepColors) return sgr;
    const char = sgr === undefined ? match : '\u001b';
    const rest = sgr === undefined ? '' : sgr.slice(1);
    return escapeOne(char, options) + rest;
  });
}

function escapeOne(char: string, options: EscapeOptions): string {
  if (options.keepLineBreaks && (char === '\n' || char === '\t')) return char;
  const short = SHORT[char];
  if (short) return short;
  const code = char.charCodeAt(0);
  if (code >= 0xd800) return `\\u{${code.toString(16)}}`;
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

/**
 * A copy of an API response with every string in it (object keys too) passed through
 * {@link escapeControlCharacters}, line breaks kept; numbers, booleans and null stay as they are.
 */
export function escapeStrings<T>(value: T): T {
  return escapeValue(value) as T;
}

function escapeValue(value: unknown): unknown {
  if (typeof value === 'string') return escapeControlCharacters(value, { keepLineBreaks: true });
  if (Array.isArray(value)) return value.map(escapeValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        escapeControlCharacters(key, { keepLineBreaks: true }),
        escapeValue(item),
      ]),
    );
  }
  return value;
}
