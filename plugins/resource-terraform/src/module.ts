import { cp, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** What the driver learns from a module's top-level Terraform files before running anything. */
export type ModuleInspection =
  | { problem: string }
  | {
      /** A `backend` or `cloud` block the module declares itself: where it is. */
      backend?: { kind: string; file: string; line: number };
      /** The input variables the module declares; undefined when it has `.tf.json` files (not parsed). */
      declaredVariables?: string[];
    };

const BACKEND_BLOCK = /^\s*(backend\s+"[^"]*"|cloud)\s*\{/;
const VARIABLE_BLOCK = /^\s*variable\s+"([^"]+)"/gm;

/**
 * Looks at the `.tf` files of the module in `dir` (not its nested modules): whether it is a module at all,
 * whether it declares a backend of its own, and which variables it declares. Never throws: a directory that
 * cannot be read is a `problem` saying so.
 */
export async function inspectModule(dir: string): Promise<ModuleInspection> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) return { problem: `${dir} is not a directory` };
    names = (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ENOENT'
          ? `the module directory ${dir} does not exist on the Pave host`
          : `the module directory ${dir} cannot be read (${code ?? (error as Error).message})`,
    };
  }
  const tfFiles = names.filter((name) => name.endsWith('.tf'));
  const hasJson = names.some((name) => name.endsWith('.tf.json'));
  if (tfFiles.length === 0 && !hasJson) {
    return { problem: `${dir} holds no Terraform files (*.tf); point source at a module directory` };
  }
  let backend: { kind: string; file: string; line: number } | undefined;
  const declared: string[] = [];
  for (const file of tfFiles) {
    const text = await readFile(join(dir, file), 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((line) => BACKEND_BLOCK.test(line));
    if (at >= 0 && !backend) {
      const kind = BACKEND_BLOCK.exec(lines[at]!)![1]!.replace(/\s+/, ' ');
      backend = {
        kind: kind === 'cloud' ? 'cloud block' : `${kind} block`,
        file: join(dir, file),
        line: at + 1,
      };
    }
    for (const match of text.matchAll(VARIABLE_BLOCK)) declared.push(match[1]!);
  }
  return {
    ...(backend ? { backend } : {}),
    ...(hasJson ? {} : { declaredVariables: [...new Set(declared)] }),
  };
}

/** What is never copied from a module directory: Terraform's own caches and state, and version control. */
const NOT_COPIED = new Set(['.terraform', '.git', 'terraform.tfstate', 'terraform.tfstate.backup']);

/** Copies the module in `source` to `target` (recursively), leaving out local state and caches. */
export async function copyModule(source: string, target: string): Promise<void> {
  await cp(source, target, {
    recursive: true,
    filter: (path) => !NOT_COPIED.has(basename(path)),
  });
}
