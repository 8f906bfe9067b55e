import type { FastifyInstance } from 'fastify';
import {
  InputError,
  MAX_NESTING_DEPTH,
  firstTooDeepInJson,
  jsonPointer,
  tooDeepMessage,
  type ValuePath,
} from '@pave/core';

/**
 * How request bodies are read: JSON only, so a text/plain or form body is refused with 415 on every route.
 * Keys that would poison prototypes (`__proto__`, `constructor.prototype`) are refused as Fastify does by
 * default, and a body nested deeper than {@link MAX_NESTING_DEPTH} is refused with a 400 naming the JSON
 * pointer of its first too-deep value, found by one iterative scan before the text is parsed, so nothing
 * recursive (validation, hashing, diffs) ever sees it. A string or key holding a NUL character (`\u0000`) is
 * refused with a 400 at its pointer too: no name or value in Pave may hold one, and PostgreSQL cannot store it.
 */
export function jsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const tooDeep = firstTooDeepInJson(text);
    if (tooDeep) {
      done(
        new InputError(`the request body is nested more than ${MAX_NESTING_DEPTH} levels deep`, [
          { path: jsonPointer(tooDeep), message: tooDeepMessage() },
        ]),
        undefined,
      );
      return;
    }
    void parseJson(request, text, (error, parsed) => {
      // Only a body whose text has the escape can hold one.
      const nul = !error && text.includes('\\u0000') ? firstNul(parsed, []) : undefined;
      if (nul) {
        const where = `${nul.inKey ? 'its name contains' : 'contains'} a NUL character (U+0000) at character ${nul.at + 1}`;
        done(
          new InputError('the request body holds a NUL character (\\u0000)', [
            {
              path: jsonPointer(nul.path),
              message: `${where}; remove it: no name or value in Pave may hold one`,
            },
          ]),
          undefined,
        );
        return;
      }
      done(error, parsed);
    });
  });
}

/** Where a NUL character is in a parsed body: a value's path, in its key or its text, at index `at`. */
interface NulAt {
  path: ValuePath;
  inKey: boolean;
  at: number;
}

/** The first string or key in `value` that holds a NUL character; undefined if none does. */
function firstNul(value: unknown, path: ValuePath): NulAt | undefined {
  if (typeof value === 'string') {
    const at = value.indexOf('\u0000');
    return at < 0 ? undefined : { path, inKey: false, at };
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = firstNul(value[index], [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = key.indexOf('\u0000');
      if (at >= 0) return { path: [...path, key], inKey: true, at };
      const found = firstNul(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}
