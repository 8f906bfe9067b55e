import { formatDetails, formatTable } from './table.ts';
import type { Column } from './table.ts';
import type { Colors, OutputStream } from './colors.ts';

/** How results are printed: aligned text for people, or the API's JSON unchanged for scripts. */
export type OutputFormat = 'table' | 'json';

/** The accepted values of `-o, --output`. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

/**
 * Prints command results to stdout in the chosen format. Commands hand it the API response and say how to
 * render it as text; in JSON mode the response is printed as it came and the text renderer never runs.
 */
export class CommandOutput {
  constructor(
    readonly format: OutputFormat,
    private readonly stdout: OutputStream,
    private readonly colors: Colors,
  ) {}

  /** Prints an API response: as indented JSON with `-o json`, otherwise as the text `render` makes of it. */
  show<T>(body: T, render: (body: T) => string): void {
    if (this.format === 'json') {
      this.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    } else {
      this.stdout.write(`${render(body)}\n`);
    }
  }

  /** Confirms a request that returned no body (a 204 delete): one line in table mode, nothing with JSON. */
  confirm(text: string): void {
    if (this.format === 'table') this.stdout.write(`${text}\n`);
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
