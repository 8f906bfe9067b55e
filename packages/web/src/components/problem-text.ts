import type { FieldProblem } from '@pave/core';

/** A sentence for people: first letter capitalized, ending with a full stop. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  return withFullStop(trimmed[0]!.toUpperCase() + trimmed.slice(1));
}

/** `text` ending in a full stop (or the `!` or `?` it ends in). */
function withFullStop(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * The field a problem's path names, for people: the last part of a JSON pointer (`/body/name` -> `name`) or
 * of a dotted location (`query.limit` -> `limit`); undefined for the request as a whole (`/`, `url`).
 */
export function problemField(path: string): string | undefined {
  const parts = path.split(/[/.]/).filter(Boolean);
  const last = parts.at(-1);
  if (!last || path === 'url' || path === 'method') return undefined;
  return /^\d+$/.test(last) ? parts.at(-2) : last;
}

/** One field problem as a sentence: "Name must be …", or the message with the field named after it. */
export function problemSentence(problem: FieldProblem, field = problemField(problem.path)): string {
  if (!field) return asSentence(problem.message);
  // A message that names its field first (`no-latest: pin your images`, a policy's): an id, kept as written.
  if (problem.message.startsWith(`${field}:`)) return withFullStop(problem.message.trim());
  return /^(must|is|are|should|cannot|can't|has|was|does|needs|may)\b/.test(problem.message)
    ? asSentence(`${field} ${problem.message}`)
    : asSentence(`${problem.message} (${field})`);
}
