// Loaded lazily by `pave templates apply`: reads a template from a directory or a YAML file.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Template, TemplateInput } from '@pave/core';
import { CliUsageError } from './errors.ts';
import { readFileBytes, readUtf8File } from './file-arguments.ts';
import { describeFileError } from './file-errors.ts';
import type { DeclarationProblem } from '@pave/core/declarations';

/** Templates read from a directory or file, with where each of their files came from. */
export interface TemplateSource {
  /** The templates (one for a directory; a file may hold several, one per YAML document or a list). */
  templates: Template[];
  /** `origins[t][i]`: the local file the i-th file of template t was read from, or undefined when inline. */
  origins: Array<Array<string | undefined>>;
  /** Every problem of the YAML, at its file:line:column; no templates when there is one. */
  problems: DeclarationProblem[];
  /** The YAML file the templates were declared in, and its text (to point the server's problems at lines). */
  yaml: { file: string; text: string };
}

/**
 * Reads a template: a directory holding `template.yaml` and its files under `files/` (text rendered, anything
 * that is not UTF-8 copied as base64; `files:` in template.yaml is optional and comes first), or one YAML file
 * with the files inline. The YAML's problems are reported at file:line:column; a path that cannot be read, a
 * YAML file that is not UTF-8 (at the byte that is not) and a file over FILE_SIZE_LIMIT_BYTES are a
 * CliUsageError naming the file.
 */
export async function readTemplateSource(path: string): Promise<TemplateSource> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new CliUsageError(`cannot read the template ${path}: no such file or directory`);
  const yamlFile = info.isDirectory() ? join(path, 'template.yaml') : path;
  const text = await readUtf8File(yamlFile).catch((error: unknown) => {
    const missing = info.isDirectory() && (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliUsageError(
      `cannot read ${yamlFile}: ${describeFileError(error, yamlFile, 'read')}` +
        (missing ? '; a template directory holds template.yaml, and its files under files/' : ''),
    );
  });
  const { TEMPLATES, TEMPLATE_DIRECTORIES, parseDeclarationsFile } = await import('@pave/core/declarations');
  const parsed = parseDeclarationsFile<Template>(
    text,
    yamlFile,
    info.isDirectory() ? TEMPLATE_DIRECTORIES : TEMPLATES,
  );
  const yaml = { file: yamlFile, text };
  if (parsed.problems.length) return { templates: [], origins: [], problems: parsed.problems, yaml };
  if (!info.isDirectory()) {
    return {
      templates: parsed.items,
      origins: parsed.items.map((t) => t.files.map(() => undefined)),
      problems: [],
      yaml,
    };
  }
  if (parsed.items.length !== 1) {
    throw new CliUsageError(
      `${yamlFile} holds ${parsed.items.length} templates; a template directory holds one`,
    );
  }
  const template = parsed.items[0]!;
  const root = join(path, 'files');
  const origins: Array<string | undefined> = template.files.map(() => undefined);
  const files = [...template.files];
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const local = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of local) {
    const bytes = await readFileBytes(file).catch((error: unknown) => {
      throw new CliUsageError(`cannot read ${file}: ${describeFileError(error, file, 'read')}`);
    });
    const text = utf8(bytes);
    const mode = (await stat(file)).mode;
    files.push({
      path: relative(root, file).split(sep).join('/'),
      ...(text !== undefined ? { content: text } : { binaryContent: bytes.toString('base64') }),
      ...(mode & 0o100 ? { executable: true } : {}),
    });
    origins.push(file);
  }
  return { templates: [{ ...template, files }], origins: [origins], problems: [], yaml };
}

/**
 * The server's problems with a template, pointed at the local files: `/files/3/content` of a file read from
 * files/ becomes that file's path (its line and column stay); any other pointer (`/parameters/properties/port/
 * type`, `/setup/deploy`) becomes the line and column of that key in the YAML file, the `index`-th template in it.
 */
export async function localProblem(
  problem: { path: string; message: string },
  template: TemplateInput,
  origins: ReadonlyArray<string | undefined>,
  yaml: { file: string; text: string },
  index: number,
): Promise<string> {
  const fileIndex = /^\/files\/(\d+)\//u.exec(problem.path)?.[1];
  const origin = fileIndex === undefined ? undefined : origins[Number(fileIndex)];
  const file = fileIndex === undefined ? undefined : template.files?.[Number(fileIndex)];
  if (origin && file && problem.message.startsWith(`${file.path}:`)) {
    return `${origin}${problem.message.slice(file.path.length)}`;
  }
  if (origin) return `${origin}: ${problem.message}`;
  const { locateDeclarationPath } = await import('@pave/core/declarations');
  const segments = problem.path
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  const { line, column } = locateDeclarationPath(yaml.text, index, segments);
  return `${yaml.file}:${line}:${column}: ${problem.path}: ${problem.message}`;
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
