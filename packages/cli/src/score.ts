// Score parsing alone, for commands to import on demand. `npm run build` bundles this module on its own
// (dist/score-parser.cjs, see scripts/build.mjs): only the parts of zod and yaml that parsing a Score file uses,
// not the copies shared with the server's chunks, so `pave validate` and `pave deploy` compile ~170 kB less.
// The bundled commands get it through score-compiled.ts, with V8's code cache.
import { isMap, isScalar, parseDocument } from 'yaml';
import { lineCounterOf } from '@pave/core';

export { formatScorePath, formatScoreProblem, parseScore } from '@pave/core';

/**
 * The 1-based line and column of each key of the mapping under the top-level `key` of a YAML text (none when
 * it is not a mapping), by key: where a problem about one of them (e.g. one container) points.
 */
export function mappingKeyPositions(
  text: string,
  key: string,
): Map<string, { line: number; column: number }> {
  const lineCounter = lineCounterOf(text);
  // Keys are not checked for repeats (parseScore reports them): the parser's check compares each key with every
  // one before it, which took 20 s for a container of 50 000 variables.
  const mapping = parseDocument(text, { uniqueKeys: false }).get(key, true);
  const positions = new Map<string, { line: number; column: number }>();
  if (!isMap(mapping)) return positions;
  for (const { key: name } of mapping.items) {
    if (isScalar(name) && typeof name.value === 'string' && name.range) {
      const { line, col } = lineCounter.linePos(name.range[0]);
      positions.set(name.value, { line, column: col });
    }
  }
  return positions;
}
