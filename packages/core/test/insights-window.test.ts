import { describe, expect, it } from 'vitest';
import { INSIGHTS_MAX_WINDOW_DAYS, insightsWindowSeconds } from '../src/insights.ts';

describe('an insights window', () => {
  it('takes any whole number of hours, days or weeks up to 550 days', () => {
    expect(insightsWindowSeconds('24h')).toBe(86_400);
    expect(insightsWindowSeconds('30d')).toBe(30 * 86_400);
    expect(insightsWindowSeconds('12w')).toBe(12 * 7 * 86_400);
    // 550 days however it is written: 13 200 hours took five digits, which the format refused.
    expect(insightsWindowSeconds(`${INSIGHTS_MAX_WINDOW_DAYS * 24}h`)).toBe(
      INSIGHTS_MAX_WINDOW_DAYS * 86_400,
    );
    expect(insightsWindowSeconds('10000h')).toBe(10_000 * 3600);
    expect(insightsWindowSeconds('550d')).toBe(550 * 86_400);
    expect(insightsWindowSeconds('78w')).toBe(78 * 7 * 86_400);
  });

  it('refuses a longer one, zero, leading zeros and other units', () => {
    for (const text of ['13201h', '551d', '79w', '999999h', '0d', '07d', '30days', '1m', '', 'd']) {
      expect(insightsWindowSeconds(text), text).toBeUndefined();
    }
  });
});
