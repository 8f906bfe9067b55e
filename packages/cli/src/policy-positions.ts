// Loaded lazily by `pave policies apply|test` when a policy has a problem, to say where it is in the file.
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';

/**
 * The 1-based line and column in a policies file (as `parseDeclarationsFile` reads it: a YAML list, or one
 * policy per document) of the `index`-th policy's `field` (`rule`, `freeze/schedule`, `criteria/0/envType`, ...). For `rule` with
 * `offset`, the position of that character of the expression: exact for plain, quoted and literal (`|`)
 * scalars, the start of the value otherwise. Falls back to the start of the policy, then to 1:1.
 */
export function locatePolicyField(
  text: string,
  index: number,
  field: string,
  offset?: number,
): { line: number; column: number } {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter });
  const items: Node[] = [];
  for (const document of Array.isArray(documents) ? documents : []) {
    const contents = document.contents;
    if (isSeq(contents)) items.push(...(contents.items as Node[]));
    else if (contents) items.push(contents as Node);
  }
  const at = (position: number) => {
    const { line, col } = lineCounter.linePos(position);
    return { line, column: col };
  };
  const item = items[index];
  if (!item || !isMap(item)) return item?.range ? at(item.range[0]) : { line: 1, column: 1 };
  let node: unknown = item;
  for (const key of field.split('/')) {
    node = isMap(node) ? node.get(key, true) : isSeq(node) ? node.get(Number(key), true) : undefined;
  }
  if (!isScalar(node) || !node.range) return item.range ? at(item.range[0]) : { line: 1, column: 1 };
  const start = node.range[0];
  if (offset === undefined || typeof node.value !== 'string') return at(start);
  // Find the expression's line in the source and the column within it.
  const expression = node.value;
  const before = expression.slice(0, offset);
  const lineIndex = before.split('\n').length - 1;
  const column = offset - (before.lastIndexOf('\n') + 1);
  const source = text.slice(start, node.range[1]);
  let cursor = 0;
  const lines = expression.split('\n');
  for (let i = 0; i <= lineIndex; i++) {
    const wanted = lines[i] ?? '';
    const found = wanted === '' ? cursor : source.indexOf(wanted, cursor);
    if (found < 0) return at(start);
    if (i === lineIndex) return at(start + found + column);
    cursor = found + wanted.length;
  }
  return at(start);
}
