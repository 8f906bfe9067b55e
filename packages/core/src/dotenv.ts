import { MAX_VALUE_KEY_LENGTH, MAX_VALUE_LENGTH, VALUE_KEY_PATTERN, type ValueList } from './values.ts';

/** A problem in a dotenv file, with its 1-based line. */
export interface DotenvProblem {
  line: number;
  message: string;
}

/** The result of parsing a dotenv file: its entries in order, or every problem found. */
export interface DotenvParse {
  entries: Array<{ key: string; value: string }>;
  problems: DotenvProblem[];
}

/**
 * Parses dotenv text strictly: `KEY=value` lines (optionally `export KEY=value`), `#` comments and blank
 * lines; values unquoted (trimmed, a ` #` starts a comment), single-quoted (literal) or double-quoted (`\n`,
 * `\t`, `\"`, `\\` escapes; may span lines, keeping every space inside the quotes). Keys and values longer than
 * the API takes (MAX_VALUE_KEY_LENGTH, MAX_VALUE_LENGTH) are problems too. Anything else is a problem naming its
 * line; a file with problems yields no entries, so an import writes nothing.
 */
export function parseDotenv(text: string, options: { quoteText?: boolean } = {}): DotenvParse {
  // A file of secrets must not have its text quoted back in messages.
  const truncate = options.quoteText === false ? () => '…' : quoteable;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const entries: DotenvParse['entries'] = [];
  const problems: DotenvProblem[] = [];
  const seen = new Map<string, number>();
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index]!;
    // Trailing spaces stay: inside a double-quoted value spanning lines they are part of it.
    const line = raw.trimStart();
    if (line.trimEnd() === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([^=\s]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      problems.push({ line: lineNumber, message: `expected KEY=VALUE, found "${truncate(line.trimEnd())}"` });
      continue;
    }
    const key = match[1]!;
    let rest = match[2]!;
    if (!VALUE_KEY_PATTERN.test(key)) {
      problems.push({
        line: lineNumber,
        message: `"${truncate(key)}" is not a valid key: use letters, digits and "_", not starting with a digit`,
      });
      continue;
    }
    if (key.length > MAX_VALUE_KEY_LENGTH) {
      problems.push({
        line: lineNumber,
        message: `the key is ${key.length} characters long; a key may have at most ${MAX_VALUE_KEY_LENGTH}`,
      });
      continue;
    }
    let value: string;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) {
        problems.push({ line: lineNumber, message: 'unterminated single quote' });
        continue;
      }
      value = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else if (rest.startsWith('"')) {
      let body = rest.slice(1);
      let closing = findClosingQuote(body);
      const startLine = lineNumber;
      while (closing < 0 && index + 1 < lines.length) {
        index++;
        body += `\n${lines[index]!}`;
        closing = findClosingQuote(body);
      }
      if (closing < 0) {
        problems.push({ line: startLine, message: 'unterminated double quote' });
        continue;
      }
      value = body
        .slice(0, closing)
        .replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
      rest = body.slice(closing + 1);
    } else {
      const comment = rest.search(/\s#/);
      value = (comment >= 0 ? rest.slice(0, comment) : rest).trim();
      rest = '';
    }
    if (rest.trim() !== '' && !rest.trim().startsWith('#')) {
      problems.push({
        line: lineNumber,
        message: `unexpected text after the value: "${truncate(rest.trim())}"`,
      });
      continue;
    }
    if (value.includes('\0')) {
      problems.push({
        line: lineNumber,
        message: `the value of ${key} contains a NUL character (U+0000); remove it: no value in Pave may hold one`,
      });
      continue;
    }
    if (value.length > MAX_VALUE_LENGTH) {
      problems.push({
        line: lineNumber,
        message: `the value of ${key} is ${value.length} characters long; a value may have at most ${MAX_VALUE_LENGTH}`,
      });
      continue;
    }
    const previous = seen.get(key);
    if (previous !== undefined) {
      problems.push({ line: lineNumber, message: `${key} is already set on line ${previous}` });
      continue;
    }
    seen.set(key, lineNumber);
    entries.push({ key, value });
  }
  return problems.length ? { entries: [], problems } : { entries, problems };
}

/** Formats values as dotenv text that {@link parseDotenv} reads back to the same values. */
export function formatDotenv(values: Array<{ key: string; value: string }>): string {
  return values
    .map(({ key, value }) =>
      /^[A-Za-z0-9_./:@%+,-]*$/.test(value)
        ? `${key}=${value}`
        : `${key}="${value
            .replace(/[\\"$]/g, (c) => `\\${c}`)
            .replace(/\n/g, '\\n')
            .replace(/\r/g, '\\r')
            .replace(/\t/g, '\\t')}"`,
    )
    .map((line) => `${line}\n`)
    .join('');
}

function findClosingQuote(body: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === '"') return i;
  }
  return -1;
}

function quoteable(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * A list of values as a dotenv file (`pave values export`, the portal's download): every value the list shows,
 * and the keys of the secrets it does not (masked: listed without `reveal`), which are left out.
 */
export function valuesAsDotenv(list: ValueList): { text: string; omittedSecrets: string[] } {
  const shown: { key: string; value: string }[] = [];
  const omittedSecrets: string[] = [];
  for (const entry of list.items) {
    if (entry.value === null) omittedSecrets.push(entry.key);
    else shown.push({ key: entry.key, value: entry.value });
  }
  return { text: formatDotenv(shown), omittedSecrets };
}
