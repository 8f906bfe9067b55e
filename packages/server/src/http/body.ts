import type { FastifyInstance } from 'fastify';
import { InputError, MAX_NESTING_DEPTH, firstTooDeepInJson, jsonPointer, tooDeepMessage } from '@pave/core';

/**
 * How request bodies are read: JSON only, so a text/plain or form body is refused with 415 on every route.
 * Keys that would poison prototypes (`__proto__`, `constructor.prototype`) are refused as Fastify does by
 * default, and a body nested deeper than {@link MAX_NESTING_DEPTH} is refused with a 400 naming the JSON
 * pointer of its first too-deep value, found by one iterative scan before the text is parsed, so nothing
 * recursive (validation, hashing, diffs) ever sees it.
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
    void parseJson(request, text, done);
  });
}
