import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { logPrinter, parseSince } from '../src/commands/logs.ts';
import { colorsFor } from '../src/output/colors.ts';
import { dataText, loadYamlOutput, streamItemText } from '../src/output/output.ts';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const plain = colorsFor({ isTTY: false, write: () => true }, {});

beforeAll(loadYamlOutput);

describe('-o yaml prints the same data as -o json', () => {
  it('parses back to what -o json parses to, for any JSON value, with no raw control characters', () => {
    fc.assert(
      // What the CLI prints came through JSON.parse of a response, so it never holds -0 (JSON writes it 0).
      fc.property(
        fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
        (value) => {
          const yaml = dataText('yaml', value);
          expect(yaml.endsWith('\n')).toBe(true);
          expect(RAW_CONTROL.test(yaml.replace(/\n/g, ''))).toBe(false);
          expect(parse(yaml)).toEqual(JSON.parse(dataText('json', value)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps strings that look like other YAML types as strings', () => {
    const value = {
      yes: 'yes',
      no: 'no',
      number: '0123',
      time: '2026-05-01T10:00:00Z',
      empty: '',
      nul: 'null',
    };
    expect(parse(dataText('yaml', value))).toEqual(value);
  });

  it('prints a stream as one YAML document per item, each starting with ---', () => {
    const items = [{ line: 'first' }, { line: 'second: with a colon' }, { line: '---' }];
    const text = items.map((item) => streamItemText('yaml', item)).join('');
    expect(text.startsWith('---\n')).toBe(true);
    expect(parseAllDocuments(text)).toHaveLength(3);
    const documents = parseAllDocuments(text);
    if (!Array.isArray(documents)) throw new Error('not a YAML stream');
    expect(documents.map((document) => document.toJS())).toEqual(items);
  });
});

describe('pave logs: --timestamps and --since', () => {
  const event = {
    workload: 'web',
    container: 'main',
    stream: 'stdout' as const,
    at: '2026-05-01T10:00:00.123Z',
    line: 'GET /',
  };

  it('starts each text line with its time when --timestamps is given, and not otherwise', () => {
    expect(logPrinter('table', plain, { timestamps: true })(event)).toBe(
      '2026-05-01T10:00:00.123Z web/main | GET /\n',
    );
    expect(logPrinter('table', plain)(event)).toBe('web/main | GET /\n');
  });

  it('prints each event as a YAML document with -o yaml, its time included', () => {
    expect(parse(logPrinter('yaml', plain)(event).replace(/^---\n/, ''))).toEqual(event);
  });

  it('takes a duration back from now, or an RFC 3339 time with its offset', () => {
    const now = new Date('2026-05-01T12:00:00.000Z');
    expect(parseSince('30s', now)).toBe('2026-05-01T11:59:30.000Z');
    expect(parseSince('10m', now)).toBe('2026-05-01T11:50:00.000Z');
    expect(parseSince('2h', now)).toBe('2026-05-01T10:00:00.000Z');
    expect(parseSince('2026-05-01T10:00:00Z', now)).toBe('2026-05-01T10:00:00.000Z');
    expect(parseSince('2026-05-01T12:00:00.5+02:00', now)).toBe('2026-05-01T10:00:00.500Z');
  });

  it('refuses anything else, naming --since and both forms', () => {
    for (const text of [
      '',
      '10',
      '10 minutes',
      '-5m',
      '2026-05-01',
      '2026-05-01T10:00:00',
      '2026-13-01T10:00:00Z',
    ]) {
      expect(() => parseSince(text), text).toThrow(
        expect.objectContaining({ name: 'CliUsageError', message: expect.stringContaining('--since: "') }),
      );
    }
    expect(() => parseSince('yesterday')).toThrow(/use a whole number followed by s .* or an RFC 3339 time/);
  });
});
