// Comparing the times of log lines: runtimes stamp them as RFC 3339 with anything from whole seconds
// (Podman) to nanoseconds (Docker, the kubelet), so they are compared as keys, not as text or Dates.

/**
 * A key that sorts RFC 3339 times in time order at nanosecond precision: UTC seconds, then the fraction
 * padded to 9 digits. A time that does not parse gets '', which sorts first.
 */
export function logTimeKey(at: string): string {
  const match = /^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/.exec(at);
  if (!match) return '';
  const [, whole = '', fraction = '', zone = 'Z'] = match;
  const ms = Date.parse(`${whole.replace(/[t ]/, 'T')}${zone.toUpperCase()}`);
  if (Number.isNaN(ms)) return '';
  return `${String(ms / 1000).padStart(12, '0')}.${fraction.padEnd(9, '0').slice(0, 9)}`;
}

/** `lines` sorted by time (a new array); lines of the same time keep their order. */
export function byLogTime<T extends { at: string }>(lines: readonly T[]): T[] {
  return lines
    .map((line, index) => ({ line, index, key: logTimeKey(line.at) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
    .map(({ line }) => line);
}

/**
 * A test for `LogsOptions.since`: true for lines printed at or after `since` (every line when `since` is
 * undefined). A line whose time does not parse is kept: it cannot be shown to be older.
 */
export function sinceFilter(since: string | undefined): (line: { at: string }) => boolean {
  const from = since === undefined ? '' : logTimeKey(since);
  if (from === '') return () => true;
  return (line) => {
    const key = logTimeKey(line.at);
    return key === '' || key >= from;
  };
}
