/** Where a text's bytes stop being UTF-8: the byte (offset from 0, value) and its line and column (from 1). */
export interface NotUtf8 {
  offset: number;
  byte: number;
  line: number;
  column: number;
}

const lenient = new TextDecoder('utf-8');

/**
 * `bytes` as UTF-8 text, and where they are not UTF-8 (undefined when they are): the first byte that does not
 * begin or continue a character, which decoding would have replaced with U+FFFD. A U+FFFD sent as UTF-8 is text
 * like any other.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string; broken: NotUtf8 | undefined } {
  const text = lenient.decode(bytes);
  if (!text.includes('\uFFFD')) return { text, broken: undefined };
  const again = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < bytes.length && bytes[offset] === again[offset]) offset++;
  if (offset === bytes.length && again.length === bytes.length) return { text, broken: undefined };
  const before = lenient.decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    text,
    broken: {
      offset,
      byte: bytes[offset] ?? 0,
      line: before.split('\n').length,
      column: [...before.slice(lineStart)].length + 1,
    },
  };
}

/** How a problem names where `broken` is: `byte 36 (0xE9, line 2, column 27)`. */
export function describeNotUtf8(broken: NotUtf8): string {
  const byte = broken.byte.toString(16).toUpperCase().padStart(2, '0');
  return `byte ${broken.offset + 1} (0x${byte}, line ${broken.line}, column ${broken.column})`;
}
