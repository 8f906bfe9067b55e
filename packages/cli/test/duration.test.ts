import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationSeconds, expiresAtAfter, MAX_DURATION_DAYS, parseDuration } from '../src/duration.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_AMOUNT = {
  s: MAX_DURATION_DAYS * 24 * 60 * 60,
  m: MAX_DURATION_DAYS * 24 * 60,
  h: MAX_DURATION_DAYS * 24,
  d: MAX_DURATION_DAYS,
} as const;

const validDuration = fc
  .constantFrom('s' as const, 'm' as const, 'h' as const, 'd' as const)
  .chain((unit) =>
    fc.record({ unit: fc.constant(unit), amount: fc.integer({ min: 1, max: MAX_AMOUNT[unit] }) }),
  );

describe('parseDuration', () => {
  it('round-trips every valid duration: N followed by s, m, h or d is exactly N of that unit', () => {
    fc.assert(
      fc.property(validDuration, ({ amount, unit }) => {
        expect(parseDuration(`${amount}${unit}`)).toBe(amount * UNIT_MS[unit]);
      }),
    );
  });

  it('turns a valid duration into an expiresAt exactly that far after now', () => {
    const now = new Date('2025-01-01T00:00:00.000Z');
    fc.assert(
      fc.property(validDuration, ({ amount, unit }) => {
        const expiresAt = expiresAtAfter(`${amount}${unit}`, now);
        expect(expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Date.parse(expiresAt) - now.getTime()).toBe(amount * UNIT_MS[unit]);
      }),
    );
    expect(expiresAtAfter('90d', now)).toBe('2025-04-01T00:00:00.000Z');
  });

  it('refuses anything that is not a whole number and a unit, naming the flag and the accepted format', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !/^\s*[0-9]+[smhd]\s*$/.test(text)),
        (text) => {
          expect(() => parseDuration(text)).toThrow(
            /^--expires-in: .* is not a duration; use .*30m, 12h, 90d/,
          );
        },
      ),
    );
    for (const text of ['', '7', 'd', '1.5h', '-3d', '3y', '7 d', '7D', '0d', '0m', '0s', '7S', '1m30s']) {
      expect(() => parseDuration(text), text).toThrow(expect.objectContaining({ name: 'CliUsageError' }));
    }
  });

  it('gives whole seconds for a TTL, naming the flag when it is not a duration', () => {
    expect(durationSeconds('90s', '--ttl')).toBe(90);
    expect(durationSeconds('48h', '--ttl')).toBe(172_800);
    expect(() => durationSeconds('2 days', '--ttl')).toThrow(/^--ttl: "2 days" is not a duration/);
  });

  it('refuses a duration longer than the maximum instead of producing an invalid date', () => {
    expect(() => parseDuration(`${MAX_DURATION_DAYS + 1}d`)).toThrow(/--expires-in: .* is too long/);
    expect(() => parseDuration('99999999999999999999d')).toThrow(
      expect.objectContaining({ name: 'CliUsageError' }),
    );
  });
});
