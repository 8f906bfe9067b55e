// Loaded lazily by `pave profiles apply` and `pave templates apply`, to say where a problem is in their YAML file.
import { LineCounter, isSeq, parseAllDocuments } from 'yaml';
import { YamlNodeLocator } from '@pave/core';

/**
 * The 1-based line and column in a declarations file (as `parseDeclarationsFile` reads it: a YAML list, or
 * one item per document) of `path` inside the `index`-th item, e.g. `['patches', '0', 'ops', '1', 'path']`.
 * Falls back to the nearest ancestor that exists, then to 1:1.
 */
export function locateDeclarationPath(
  text: string,
  index: number,
  path: readonly string[],
): { line: number; column: number } {
  const lineCounter = new LineCounter();
  const segments = path.map((segment) => (/^\d+$/u.test(segment) ? Number(segment) : segment));
  let seen = 0;
  for (const document of parseAllDocuments(text, { lineCounter })) {
    const contents = document.contents;
    const items = isSeq(contents) ? contents.items.length : contents ? 1 : 0;
    if (index < seen + items) {
      const prefix = isSeq(contents) ? [index - seen] : [];
      return new YamlNodeLocator(text, lineCounter, document).locate([...prefix, ...segments], 'value');
    }
    seen += items;
  }
  return { line: 1, column: 1 };
}
