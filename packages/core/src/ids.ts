import { z } from 'zod';

/** The rule every Pave id follows: a DNS label (RFC 1123), so ids can name hosts, namespaces and containers. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const DNS_LABEL_RULE =
  'must be a DNS label: 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit ' +
  '(^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$)';

/** A zod schema for an id; a bad one is refused with the rule in the message. */
export const dnsLabel = z.string().regex(DNS_LABEL_PATTERN, { message: DNS_LABEL_RULE });

/**
 * The ids Pave numbers itself (deployments, artifacts, rules, audit entries, events): whole numbers of at most
 * 15 digits, which both stores' 64-bit integer columns and a JavaScript number hold exactly. A longer one names
 * nothing, and PostgreSQL would refuse to compare a column with it.
 */
export const NUMERIC_ID_PATTERN = /^\d{1,15}$/;

/** Whether `value` is a valid Pave id. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL_PATTERN.test(value);
}

/**
 * The first character of `text` that people cannot see or that breaks terminals and JSON tools: a control
 * character (C0 `U+0000`-`U+001F`, DEL `U+007F`, C1 `U+0080`-`U+009F`), a lone UTF-16 surrogate, or one that
 * reorders or hides text where it is shown (the bidirectional embeddings, overrides and isolates
 * `U+202A`-`U+202E` and `U+2066`-`U+2069`, which make a name read as another, and the invisible zero-width
 * space `U+200B` and `U+FEFF`). Joiners (`U+200C`, `U+200D`, in emoji and many scripts) are text. With
 * `multiline`, line feeds and tabs are allowed (messages may span lines). `position` counts characters
 * (code points) from 1; undefined when the text is clean.
 */
export function findUnprintable(
  text: string,
  options: { multiline?: boolean } = {},
): { position: number; codePoint: string } | undefined {
  let position = 0;
  for (const char of text) {
    position++;
    const code = char.codePointAt(0)!;
    if (options.multiline && (char === '\n' || char === '\t')) continue;
    const control = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    const loneSurrogate = code >= 0xd800 && code <= 0xdfff;
    if (control || loneSurrogate || isHidingCharacter(code)) {
      return { position, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}` };
    }
  }
  return undefined;
}

/** Whether a code point reorders or hides the text around it where it is shown (see findUnprintable). */
function isHidingCharacter(code: number): boolean {
  return (
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x200b ||
    code === 0xfeff
  );
}

/** Why `text` is refused as a name or message, naming the character and where it is; undefined if it is fine. */
export function unprintableProblem(text: string, options: { multiline?: boolean } = {}): string | undefined {
  const found = findUnprintable(text, options);
  if (!found) return undefined;
  const code = Number.parseInt(found.codePoint.slice(2), 16);
  const kind = isHidingCharacter(code)
    ? 'a character that reorders or hides text where it is shown'
    : /^U\+D[89A-F]/.test(found.codePoint)
      ? 'a lone surrogate'
      : 'a control character';
  return (
    `contains ${kind} (${found.codePoint}) at character ${found.position}; remove it: names and messages ` +
    `must be printable text${options.multiline ? ' (line breaks and tabs are allowed)' : ''}`
  );
}

/**
 * A zod schema for a name, description or message a person gives: any printable text, refusing control
 * characters and lone surrogates (see {@link findUnprintable}) with the character and its position.
 */
export function printableText(options: { multiline?: boolean } = {}) {
  return z.string().superRefine((value, context) => {
    const problem = unprintableProblem(value, options);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/** The longest directory a client may name for its Score file: Linux's PATH_MAX. */
const SOURCE_DIR_MAX = 4096;

/**
 * The directory a client names for its Score file (a push's or a deployment's `dir`): absolute, on POSIX
 * (`/srv/shop`) or Windows (`C:\src\shop`, `\\host\share`), printable, at most SOURCE_DIR_MAX characters.
 * Checked where it comes in only: deployments stored before the check keep their directories.
 */
export const SourceDir = printableText()
  .min(1)
  .max(SOURCE_DIR_MAX, { message: `must be at most ${SOURCE_DIR_MAX} characters` })
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, {
    message:
      'must be an absolute directory, e.g. /srv/shop (`pave deploy` and `pave artifacts push` send the Score file’s)',
  });
