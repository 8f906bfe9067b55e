import { stringify } from 'yaml';
import { sortKeysDeep } from './render.ts';

/**
 * The objects as one multi-document YAML stream (documents separated by `---`), keys sorted recursively and
 * long strings never folded, so the same objects always give the same text. What `pave render -o yaml` prints
 * and what `kubectl apply -f` or `podman kube play` read. Quotes are single, as Prettier writes YAML here.
 */
export function manifestsToYaml(objects: readonly object[]): string {
  return objects
    .map((object) =>
      stringify(sortKeysDeep(object), { sortMapEntries: true, lineWidth: 0, singleQuote: true }),
    )
    .join('---\n');
}
