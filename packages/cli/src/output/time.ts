/**
 * Shows an API timestamp as ISO 8601 in UTC without milliseconds (2025-01-31T09:30:00Z); `null` (never)
 * becomes `fallback`. A string that is not a date is shown as it came.
 */
export function formatTime(timestamp: string | null, fallback = '-'): string {
  if (timestamp === null) return fallback;
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
