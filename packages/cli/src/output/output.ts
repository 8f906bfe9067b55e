import { formatDetails, formatTable } from './table.ts';
import type { Column } from './table.ts';
import type { Colors, OutputStream } from './colors.ts';
import { escapeControlCharacters, escapeStrings } from './terminal-text.ts';

/** How results are printed: aligned text for people, or the API's JSON unchanged for scripts. */
export type OutputFormat = 'table' | 'json';

/** The accepted values of `-o, --output`. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

/**
 * Prints command results to stdout in the chosen format. Commands hand it the API response and say how to
 * render it as text; in JSON mode the response is printed as it came and the text renderer never runs.
 * Text for people never carries the server's control characters: they are shown escaped (`\x1b`), so a
 * name cannot drive the terminal; the CLI's own colours stay.
 */
export class CommandOutput {
  constructor(
    readonly format: OutputFormat,
    private readonly stdout: OutputStream,
    private readonly colors: Colors,
  ) {}

  /**
   * Prints an API response: as indented JSON with `-o json`, otherwise as the text `render` makes of it,
   * from a copy of the response whose strings have their control characters escaped.
   */
  show<T>(body: T, render: (body: T) => string): void {
    if (this.format === 'json') {
      this.stdout.write(`${jsonText(body)}\n`);
    } else {
      this.stdout.write(`${forPeople(render(escapeStrings(body)))}\n`);
    }
  }

  /** Confirms a request that returned no body (a 204 delete): one line in table mode, nothing with JSON. */
  confirm(text: string): void {
    if (this.format === 'table') this.stdout.write(`${forPeople(text)}\n`);
  }

  /** Renders rows as a table with a (coloured, on a terminal) header, or `empty` when there are none. */
  table<Row>(rows: readonly Row[], columns: readonly Column<Row>[], empty: string): string {
    return formatTable(rows, columns, { empty, styleHeader: this.colors.bold });
  }

  /** Renders one object as aligned `LABEL  value` lines. */
  details(fields: ReadonlyArray<readonly [label: string, value: string]>): string {
    return formatDetails(fields, { styleHeader: this.colors.bold });
  }
}

// Text the CLI composed (its colours and line breaks are meant) around what the server sent.
function forPeople(text: string): string {
  return escapeControlCharacters(text, { keepColors: true, keepLineBreaks: true });
}

/**
 * Indented JSON with DEL and the C1 controls (U+007F-U+009F) written as \u escapes too: JSON.stringify
 * leaves them raw, and some terminals obey C1. The data is the same; only its spelling changes.
 */
function jsonText(body: unknown): string {
  return JSON.stringify(body, null, 2).replace(
    /[\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
