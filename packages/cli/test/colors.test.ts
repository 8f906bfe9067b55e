import { describe, expect, it } from 'vitest';
import { formatError } from '../src/errors.ts';
import { colorEnabled, colorsFor } from '../src/output/colors.ts';
import { CommandOutput } from '../src/output/output.ts';
import { runCli } from '../src/program.ts';
import { capture, fakeIo } from './helpers.ts';

const ESCAPE = '\u001b[';
const rows = [{ id: 'shop' }];
const columns = [{ header: 'id', value: (row: { id: string }) => row.id }];

function renderTable(isTTY: boolean, env: Record<string, string>): string {
  const stdout = capture(isTTY);
  const output = new CommandOutput('table', stdout, colorsFor(stdout, env));
  output.show(rows, (body) => output.table(body, columns, 'none'));
  return stdout.text;
}

describe('colour', () => {
  it('makes table headers bold on a terminal', () => {
    expect(renderTable(true, {})).toContain(ESCAPE);
  });

  it('prints no escape codes with NO_COLOR=1, even on a terminal', () => {
    expect(renderTable(true, { NO_COLOR: '1' })).toBe('ID\nshop\n');
    const red = colorsFor(capture(true), { NO_COLOR: '1' }).red;
    expect(formatError(new Error('boom'), { highlight: red })).toBe('pave: error: boom\n');
  });

  it('prints no escape codes when the output is not a terminal (a pipe or a file)', () => {
    expect(renderTable(false, {})).toBe('ID\nshop\n');
    expect(colorEnabled(capture(false), { CI: 'true' })).toBe(false);
  });

  it('ignores an empty NO_COLOR, as no-color.org says, and honours TERM=dumb and FORCE_COLOR', () => {
    expect(colorEnabled(capture(true), { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(capture(true), { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled(capture(false), { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(capture(false), { FORCE_COLOR: '0' })).toBe(false);
  });

  it('keeps errors from the whole CLI free of escape codes with NO_COLOR=1 on a terminal', async () => {
    const coloured = fakeIo({ tty: true });
    await runCli(['node', 'pave', 'apps', 'get'], coloured);
    expect(coloured.stderr.text).toContain(ESCAPE);

    const plain = fakeIo({ tty: true, env: { NO_COLOR: '1' } });
    expect(await runCli(['node', 'pave', 'apps', 'get'], plain)).toBe(2);
    expect(plain.stderr.text).toBe("pave: error: missing required argument 'app'\n");
  });
});

describe('JSON output', () => {
  it('prints the API response unchanged and never renders a table', () => {
    const stdout = capture(true);
    const output = new CommandOutput('json', stdout, colorsFor(stdout, {}));
    const body = { items: [{ id: 'shop', createdAt: '2025-01-01T00:00:00.123Z' }] };
    output.show(body, () => {
      throw new Error('the table renderer must not run in JSON mode');
    });
    output.confirm('Deleted app shop');
    expect(stdout.text).toBe(`${JSON.stringify(body, null, 2)}\n`);
    expect(JSON.parse(stdout.text)).toEqual(body);
  });
});
