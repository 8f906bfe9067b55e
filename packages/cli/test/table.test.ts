import { describe, expect, it } from 'vitest';
import { formatDetails, formatTable, visibleWidth } from '../src/output/table.ts';
import type { Column } from '../src/output/table.ts';
import { formatTime } from '../src/output/time.ts';

interface Row {
  id: string;
  name: string;
}
const columns: Column<Row>[] = [
  { header: 'id', value: (row) => row.id },
  { header: 'name', value: (row) => row.name },
];

describe('formatTable', () => {
  it('aligns every column under an upper-case header, two spaces apart, without trailing spaces', () => {
    const text = formatTable(
      [
        { id: 'shop', name: 'Web shop' },
        { id: 'payments-api', name: 'Payments' },
      ],
      columns,
    );
    expect(text.split('\n')).toEqual([
      'ID            NAME',
      'shop          Web shop',
      'payments-api  Payments',
    ]);
  });

  it('widens a column to its longest header when the values are shorter', () => {
    const text = formatTable(
      [{ id: 'a', name: 'b' }],
      [
        { header: 'environment', value: (row: Row) => row.id },
        { header: 'type', value: (row: Row) => row.name },
      ],
    );
    expect(text).toBe('ENVIRONMENT  TYPE\na            b');
  });

  it('prints the friendly empty message instead of a bare header when there are no rows', () => {
    const empty = 'No apps yet. Create one with `pave apps create NAME`.';
    expect(formatTable([], columns, { empty })).toBe(empty);
    expect(formatTable([], columns)).toBe('ID  NAME');
  });

  it('pads by visible width, so coloured and wide (CJK, emoji) cells stay aligned', () => {
    const text = formatTable(
      [
        { id: '\u001b[31mred\u001b[39m', name: 'x' },
        { id: '店舗', name: 'y' },
        { id: 'café', name: 'z' },
        { id: '🚀', name: 'w' },
      ],
      columns,
    );
    // Where the NAME column starts, in terminal cells: the same on every line.
    const nameStarts = text
      .split('\n')
      .map((line) => visibleWidth(line.slice(0, line.lastIndexOf('  ') + 2)));
    expect(nameStarts).toEqual([6, 6, 6, 6, 6]);
    expect(text.split('\n')[2]).toBe('店舗  y');
    expect(text.split('\n')[4]).toBe('🚀    w');
  });

  it('keeps a cell with a newline on one line so the columns do not break', () => {
    expect(formatTable([{ id: 'a', name: 'two\nlines' }], columns)).toBe('ID  NAME\na   two\\nlines');
  });

  it('styles the header without counting the escape codes as width', () => {
    const text = formatTable([{ id: 'shop', name: 'Shop' }], columns, { styleHeader: (s) => `<${s}>` });
    expect(text.split('\n')[0]).toBe('<ID  >  <NAME>');
  });
});

describe('visibleWidth', () => {
  it('counts terminal cells: escapes 0, combining marks 0, CJK and emoji 2', () => {
    expect(visibleWidth('\u001b[1mbold\u001b[22m')).toBe(4);
    expect(visibleWidth('e\u0301')).toBe(1);
    expect(visibleWidth('日本')).toBe(4);
    expect(visibleWidth('👍🏽')).toBe(2);
  });
});

describe('formatDetails', () => {
  it('aligns the values of a single object after upper-case labels', () => {
    expect(
      formatDetails([
        ['id', 'shop'],
        ['created by', 'admin'],
      ]),
    ).toBe('ID          shop\nCREATED BY  admin');
  });
});

describe('formatTime', () => {
  it('shows timestamps as UTC ISO 8601 without milliseconds', () => {
    expect(formatTime('2025-03-04T05:06:07.890Z')).toBe('2025-03-04T05:06:07Z');
    expect(formatTime('2025-03-04T07:06:07+02:00')).toBe('2025-03-04T05:06:07Z');
  });

  it('shows a missing time as the fallback and an unparseable one unchanged', () => {
    expect(formatTime(null, 'never')).toBe('never');
    expect(formatTime(null)).toBe('-');
    expect(formatTime('soon')).toBe('soon');
  });
});
