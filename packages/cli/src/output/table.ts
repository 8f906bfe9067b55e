import { escapeControlCharacters } from './terminal-text.ts';

/** One column of a table: its header (shown upper-case) and how to read a cell from a row. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
}

/** Options for {@link formatTable}. */
export interface TableOptions {
  /** Printed instead of the table when there are no rows, e.g. "No apps yet. Create one with …". */
  empty?: string;
  /** Styles the header row (e.g. bold); padding is computed on the unstyled text. */
  styleHeader?: (text: string) => string;
}

const COLUMN_GAP = '  ';
// CSI sequences (colours) and OSC 8 hyperlinks: neither takes up space on screen.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const ZERO_WIDTH = /^(?:\p{Mark}|\p{Default_Ignorable_Code_Point}|\p{Control})+$/u;
const WIDE =
  /^(?:\p{Extended_Pictographic}|[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}])/u;
// Made on first use: creating it loads ICU's break rules (~20 ms), which plain ASCII tables never need.
let graphemes: Intl.Segmenter | undefined;

/**
 * The number of terminal cells `text` takes: escape sequences count 0, East Asian wide characters and
 * emoji count 2, combining marks 0, everything else 1.
 */
export function visibleWidth(text: string): number {
  const plain = text.replace(ANSI_ESCAPE, '');
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let width = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(plain)) {
    if (ZERO_WIDTH.test(segment)) continue;
    width += WIDE.test(segment) ? 2 : 1;
  }
  return width;
}

/** Pads `text` with spaces on the right to `width` visible cells. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleWidth(text)));
}

/**
 * Renders rows as aligned columns under an upper-case header row, two spaces between columns and no
 * trailing spaces. With no rows it returns `options.empty` (or just the header when that is not set).
 * The result has no final newline.
 */
export function formatTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  options: TableOptions = {},
): string {
  if (rows.length === 0 && options.empty !== undefined) return options.empty;
  const headers = columns.map((column) => column.header.toUpperCase());
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))));
  const widths = headers.map((header, index) =>
    Math.max(visibleWidth(header), ...cells.map((line) => visibleWidth(line[index] ?? ''))),
  );
  const styleHeader = options.styleHeader ?? ((text: string) => text);
  const render = (line: readonly string[], style: (text: string) => string) =>
    line
      .map((cell, index) =>
        index === line.length - 1 ? style(cell) : style(padEnd(cell, widths[index] ?? 0)),
      )
      .join(COLUMN_GAP)
      .trimEnd();
  return [render(headers, styleHeader), ...cells.map((line) => render(line, (text) => text))].join('\n');
}

/**
 * Renders one object as aligned `LABEL  value` lines (labels upper-case), for `get` commands.
 * The result has no final newline.
 */
export function formatDetails(
  fields: ReadonlyArray<readonly [label: string, value: string]>,
  options: Pick<TableOptions, 'styleHeader'> = {},
): string {
  const width = Math.max(0, ...fields.map(([label]) => visibleWidth(label)));
  const styleHeader = options.styleHeader ?? ((text: string) => text);
  return fields
    .map(
      ([label, value]) => `${styleHeader(padEnd(label.toUpperCase(), width))}${COLUMN_GAP}${oneLine(value)}`,
    )
    .join('\n');
}

// A newline or tab inside a cell would break the columns, and other control characters could drive the
// terminal: show them escaped instead (colours the CLI added stay).
function oneLine(text: string): string {
  return escapeControlCharacters(text.replace(/\r?\n/g, '\\n'), { keepColors: true });
}
