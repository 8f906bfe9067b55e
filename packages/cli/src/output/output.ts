import { formatDetails, formatTable } from './table.ts';
import type { Column } from './table.ts';
import type { Colors, OutputStream } from './colors.ts';
import { escapeControlCharacters, escapeStrings } from './terminal-text.ts';

/**
 * How results are printed: aligned text for people, or the API's data unchanged for scripts, as JSON or as
 * YAML (the same data: `-o yaml` parses to what `-o json` prints).
 */
export type OutputFormat = 'table' | 'json' | 'yaml';

/** The accepted values of `-o, --output`. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** A data format of `-o`: the API's response printed as it came. */
export type DataFormat = Exclude<OutputFormat, 'table'>;

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

  /** True with `-o json` and `-o yaml`: results are printed as data for scripts, and confirmations not at all. */
  get forScripts(): boolean {
    return this.format !== 'table';
  }

  /**
   * Prints an API response: as indented JSON with `-o json`, as a YAML document with `-o yaml`, otherwise as
   * the text `render` makes of it, from a copy of the response whose strings have their control characters
   * escaped. An answer `render` cannot read (a TypeError: a field Pave always sends is missing) is not Pave's
   * and is printed in no format: the error goes on, and runCli says the server is not Pave
   * (server-answers.ts), so a script never takes another API's JSON for Pave's.
   */
  show<T>(body: T, render: (body: T) => string): void {
    if (this.format === 'table') {
      this.stdout.write(`${forPeople(render(escapeStrings(body)))}\n`);
    } else {
      checkReadable(body, render);
      this.stdout.write(dataText(this.format, body));
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

// Renders `body` for people and drops the text: only whether the answer can be read counts. Other errors of the
// text for people (which scripts never see) do not stop the data.
function checkReadable<T>(body: T, render: (body: T) => string): void {
  try {
    render(body);
  } catch (error) {
    const name = (error as Error | undefined)?.name;
    if (name === 'TypeError' || name === 'SyntaxError') throw error;
  }
}

// Text the CLI composed (its colours and line breaks are meant) around what the server sent.
function forPeople(text: string): string {
  return escapeControlCharacters(text, { keepColors: true, keepLineBreaks: true });
}

/**
 * `body` as the text `-o json` or `-o yaml` prints, ending with a newline: indented JSON, or one YAML
 * document (block style, lines never folded). Either way DEL and the C1 controls are written as escapes.
 */
export function dataText(format: DataFormat, body: unknown): string {
  return format === 'json' ? `${jsonText(body)}\n` : yamlText(body);
}

/**
 * One item of a stream (`pave logs -f`) as `-o json` or `-o yaml` prints it: one line of JSON per item (JSON
 * Lines), or one YAML document per item, each starting with `---`.
 */
export function streamItemText(format: DataFormat, item: unknown): string {
  return format === 'json' ? `${escapeC1(JSON.stringify(item))}\n` : `---\n${yamlText(item)}`;
}

/**
 * Indented JSON with DEL and the C1 controls (U+007F-U+009F) written as \u escapes too: JSON.stringify
 * leaves them raw, and some terminals obey C1. The data is the same; only its spelling changes.
 */
function jsonText(body: unknown): string {
  return escapeC1(JSON.stringify(body, null, 2));
}

function escapeC1(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * YAML of `body`. The yaml package double-quotes every string holding a control character but writes DEL
 * and C1 raw inside the quotes; they become `\xNN` escapes there, which parse back to the same characters.
 */
function yamlText(body: unknown): string {
  if (!yaml) throw new Error('-o yaml before loadYamlOutput(): runCli loads it before a command runs');
  return yaml
    .stringify(body, { lineWidth: 0 })
    .replace(/[\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

let yaml: typeof import('yaml') | undefined;

/**
 * Loads the yaml package for `-o yaml` (runCli does, before a command with that flag runs): the other
 * formats, and so most commands, start without compiling its 120 kB.
 */
export async function loadYamlOutput(): Promise<void> {
  yaml ??= await importYaml();
}

/**
 * The yaml package, loaded on demand. A CommonJS package imported dynamically: its exports are `default`, in
 * Node and in Pave's bundle alike (a named import such as `{ stringify }` is undefined in the bundle).
 */
export async function importYaml(): Promise<typeof import('yaml')> {
  return ((await import('yaml')) as unknown as { default: typeof import('yaml') }).default;
}
