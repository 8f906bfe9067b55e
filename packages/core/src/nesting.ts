/**
 * The deepest nesting of objects and arrays Pave accepts in a request body or a Score file: the outermost
 * object is level 1. Real specs stay under 10 levels; the limit exists so that nothing recursive (schema
 * validation, canonical hashing, diffs, YAML rendering) ever sees a value deep enough to exhaust the stack.
 */
export const MAX_NESTING_DEPTH = 64;

/** Where a value is: object keys and array indexes from the root. */
export type ValuePath = Array<string | number>;

/** A path as an RFC 6901 JSON pointer, e.g. `/workloads/0/spec`; the root is `/`. */
export function jsonPointer(path: readonly (string | number)[]): string {
  if (path.length === 0) return '/';
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The message for a value nested deeper than {@link MAX_NESTING_DEPTH}, saying how to fix it. */
export function tooDeepMessage(limit: number = MAX_NESTING_DEPTH): string {
  return `is nested more than ${limit} objects or arrays deep; flatten it (Pave accepts at most ${limit} levels)`;
}

interface Container {
  isObject: boolean;
  /** The array index of the current element. */
  index: number;
  /** Where the current key's string starts and ends in the text (an object's), -1 before the first key. */
  keyStart: number;
  keyEnd: number;
  expectingKey: boolean;
}

/**
 * Finds the first object or array in JSON text nested deeper than `limit`, without parsing it and without
 * recursion: the text is scanned once, skipping strings. Resolves to that value's path, or undefined when
 * every value is shallow enough. The text is not validated: malformed JSON is left for the parser to report.
 */
export function firstTooDeepInJson(text: string, limit: number = MAX_NESTING_DEPTH): ValuePath | undefined {
  const stack: Container[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 0x5c /* \ */) i++;
        else if (inner === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.isObject && top.expectingKey) {
        top.keyStart = start;
        top.keyEnd = i + 1;
      }
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (stack.length >= limit) return pathOf(text, stack);
      stack.push({ isObject: code === 0x7b, index: 0, keyStart: -1, keyEnd: -1, expectingKey: true });
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      stack.pop();
    } else if (code === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) {
        top.index++;
        top.expectingKey = true;
      }
    } else if (code === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      if (top) top.expectingKey = false;
    }
  }
  return undefined;
}

function pathOf(text: string, stack: readonly Container[]): ValuePath {
  return stack.map((container) => {
    if (!container.isObject) return container.index;
    if (container.keyStart < 0) return '';
    try {
      return String(JSON.parse(text.slice(container.keyStart, container.keyEnd)));
    } catch {
      // A malformed key: name it as written.
      return text.slice(container.keyStart + 1, container.keyEnd - 1);
    }
  });
}

/**
 * Finds the first object or array in a parsed value nested deeper than `limit` (in document order), without
 * recursion. Resolves to its path, or undefined when every value is shallow enough. A cyclic value counts as
 * too deep.
 */
export function firstTooDeepValue(value: unknown, limit: number = MAX_NESTING_DEPTH): ValuePath | undefined {
  const pending: Array<{ value: unknown; path: ValuePath }> = [{ value, path: [] }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.path.length >= limit) return next.path;
    const entries: Array<[string | number, unknown]> = Array.isArray(next.value)
      ? next.value.map((item, index) => [index, item])
      : Object.entries(next.value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      pending.push({ value: child, path: [...next.path, key] });
    }
  }
  return undefined;
}

/**
 * Every string in `value`, keys included, for which `test` finds something, depth first (a key before its value),
 * with its path (a key's ends with the key) and what `test` found: where a rule about the characters of every
 * name and value applies (a NUL character, which no name or value in Pave may hold).
 */
export function* stringsWhere<Found>(
  value: unknown,
  test: (text: string) => Found | undefined,
  path: ValuePath = [],
): Generator<{ path: ValuePath; inKey: boolean; found: Found }> {
  if (typeof value === 'string') {
    const found = test(value);
    if (found !== undefined) yield { path, inKey: false, found };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsWhere(item, test, [...path, index]);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = test(key);
      if (found !== undefined) yield { path: [...path, key], inKey: true, found };
      yield* stringsWhere(item, test, [...path, key]);
    }
  }
}
