import type { FastifyInstance } from 'fastify';
import {
  InputError,
  MAX_NESTING_DEPTH,
  UnsupportedMediaTypeError,
  decodeUtf8,
  describeNotUtf8,
  firstTooDeepInJson,
  jsonPointer,
  stringsWhere,
  tooDeepMessage,
} from '@pave/core';

/**
 * How request bodies are read: JSON only, so a text/plain or form body is refused with 415 on every route.
 * Keys that would poison prototypes (`__proto__`, `constructor.prototype`) are refused as Fastify does by
 * default, and a body nested deeper than {@link MAX_NESTING_DEPTH} is refused with a 400 naming the JSON
 * pointer of its first too-deep value, found by one iterative scan before the text is parsed, so nothing
 * recursive (validation, hashing, diffs) ever sees it. A string or key holding a NUL character (`\u0000`) or a
 * lone surrogate (`\ud800`) is refused with a 400 at its pointer too: no name or value in Pave may hold one.
 * The body must be UTF-8, unencoded: another charset or a Content-Encoding is a 415, bytes that are not UTF-8 a
 * 400 naming the first one with its line and column (never U+FFFD in their place).
 */
export function jsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser<Buffer>('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(
        new UnsupportedMediaTypeError(
          `the request body is encoded (${encoding.slice(0, 40)}); Pave reads it unencoded only`,
          [{ path: 'header.content-encoding', message: 'send the JSON as it is, without Content-Encoding' }],
        ),
        undefined,
      );
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/iu.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/iu.test(charset)) {
      done(
        new UnsupportedMediaTypeError(
          `the request body is in ${charset.slice(0, 40)}; Pave reads JSON in UTF-8 only`,
          [
            {
              path: 'header.content-type',
              message: 'send the body in UTF-8, with charset=utf-8 or no charset',
            },
          ],
        ),
        undefined,
      );
      return;
    }
    const { text, broken } = decodeUtf8(body);
    if (broken) {
      done(
        new InputError('the request body is not UTF-8', [
          {
            path: '/',
            message:
              `${describeNotUtf8(broken)} does not begin a UTF-8 character; send the text in UTF-8 ` +
              '(Latin-1 or Windows-1252 text must be converted)',
          },
        ]),
        undefined,
      );
      return;
    }
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
      // Only a body whose text has such an escape can hold one.
      const found =
        !error && UNSTORABLE_ESCAPE.test(text) ? stringsWhere(parsed, unstorableIn).next().value : undefined;
      if (found) {
        const { kind, codePoint, position } = found.found;
        const where = `${found.inKey ? 'its name contains' : 'contains'} ${kind} (${codePoint}) at character ${position}`;
        done(
          new InputError(`the request body holds ${kind}`, [
            {
              path: jsonPointer(found.path),
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

/** The JSON escape of a NUL character or of a surrogate (a lone one, or half of a pair). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/iu;

/** A character no name or value may hold, and where it is in its text (in characters, from 1). */
interface UnstorableCharacter {
  kind: 'a NUL character' | 'a lone surrogate';
  codePoint: string;
  position: number;
}

/**
 * The first character of `text` that no name or value in Pave may hold: NUL (PostgreSQL cannot store it, a
 * workload's environment cannot carry it) or a lone surrogate (neither engine stores it as it is: it would come
 * back as U+FFFD). Undefined when there is none.
 */
function unstorableIn(text: string): UnstorableCharacter | undefined {
  let position = 0;
  for (const char of text) {
    position++;
    const code = char.codePointAt(0)!;
    if (code === 0 || (code >= 0xd800 && code <= 0xdfff)) {
      return {
        kind: code === 0 ? 'a NUL character' : 'a lone surrogate',
        codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
        position,
      };
    }
  }
  return undefined;
}
