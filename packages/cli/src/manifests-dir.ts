import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNode } from 'yaml';
import {
  WORKLOAD_MANIFEST_LIMITS,
  WorkloadManifest,
  decodeUtf8,
  lineCounterOf,
  parseYamlDocuments,
} from '@pave/core';
import { CliUsageError } from './errors.ts';
import { describeFileError, notUtf8 } from './file-errors.ts';

/**
 * Reads the Kubernetes manifests of a `--manifests DIR`: every `*.yaml` and `*.yml` file directly in `dir`
 * (not in subdirectories), in name order, each document of a multi-document file one manifest; empty
 * documents are skipped but counted, so `k8s/netpol.yaml#2` is the file's second document. Resolves with the
 * manifests and one `file:line:column: message` problem per YAML error, document that is not a mapping, or
 * manifest without apiVersion, kind or metadata.name. `dir` is as given (paths in messages start with it),
 * resolved against `cwd`. Throws CliUsageError when the directory cannot be read or holds no YAML file.
 */
export async function readManifestsDir(
  dir: string,
  cwd = process.cwd(),
): Promise<{ manifests: WorkloadManifest[]; problems: string[] }> {
  let names: string[];
  try {
    names = (await readdir(resolve(cwd, dir), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/u.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new CliUsageError(`--manifests ${dir}: ${describeFileError(error, dir, 'read-directory')}`);
  }
  if (names.length === 0) {
    throw new CliUsageError(`--manifests ${dir}: the directory has no *.yaml or *.yml file`);
  }
  const manifests: WorkloadManifest[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const { text, broken } = decodeUtf8(await readFile(resolve(cwd, file)));
    if (broken) {
      problems.push(`${file}:${broken.line}:${broken.column}: ${notUtf8(broken)}`);
      continue;
    }
    const parsed = parseManifests(text, file);
    manifests.push(...parsed.manifests);
    problems.push(...parsed.problems);
  }
  if (manifests.length > WORKLOAD_MANIFEST_LIMITS.count) {
    problems.push(
      `${dir}: ${manifests.length} manifests; a workload may carry at most ${WORKLOAD_MANIFEST_LIMITS.count}`,
    );
  }
  return { manifests, problems };
}

/** The manifests of one multi-document YAML text (see {@link readManifestsDir}); `file` labels them. */
export function parseManifests(
  text: string,
  file: string,
): { manifests: WorkloadManifest[]; problems: string[] } {
  const lineCounter = lineCounterOf(text);
  const documents = parseYamlDocuments(text);
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const manifests: WorkloadManifest[] = [];
  const problems: string[] = [];
  for (const [index, document] of documents.entries()) {
    const where = `${file}#${index + 1}`;
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push(`${at(error.pos[0])}: YAML syntax error: ${error.message.split('\n')[0] ?? ''}`);
      }
      continue;
    }
    const contents = document.contents;
    if (contents === null || (isNode(contents) && 'value' in contents && contents.value === null)) continue;
    let data: unknown;
    try {
      data = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push(`${at(document.range[0])}: YAML error: ${(error as Error).message}`);
      continue;
    }
    const start = isNode(contents) && contents.range ? contents.range[0] : document.range[0];
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      problems.push(
        `${at(start)}: document ${where} is not a Kubernetes manifest (a mapping with apiVersion and kind)`,
      );
      continue;
    }
    const entry = { file, document: index + 1, manifest: data as Record<string, unknown> };
    const checked = WorkloadManifest.safeParse(entry);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        // Point at the deepest part of the path the document has (the mapping that lacks a key).
        const path = issue.path.slice(1).map(String);
        let offset = start;
        for (let length = path.length; length > 0; length--) {
          const node = document.getIn(path.slice(0, length), true);
          if (isNode(node) && node.range) {
            offset = node.range[0];
            break;
          }
        }
        problems.push(`${at(offset)}: ${path.join('.') || '(document)'}: ${issue.message}`);
      }
      continue;
    }
    manifests.push(entry);
  }
  return { manifests, problems };
}
