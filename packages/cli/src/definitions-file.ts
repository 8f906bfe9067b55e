// Loaded lazily by the `apply -f` commands of declarations files (defs, targets, policies, profiles,
// templates): reads the file and prints its problems. Parsing and checking it is core's
// (`@pave/core/declarations`), shared with the portal.
import { formatScoreProblem } from '@pave/core';
import type { DeclarationProblem } from '@pave/core/declarations';
import { CliUsageError } from './errors.ts';
import { readFileArgument } from './file-arguments.ts';
import { describeFileError } from './file-errors.ts';

/** Renders a problem as one line: `file:line:column: json.path: message`. */
export function formatDeclarationProblem(problem: DeclarationProblem): string {
  return formatScoreProblem(problem);
}

/** The name `pave defs apply` knows {@link formatDeclarationProblem} by. */
export const formatDefinitionProblem = formatDeclarationProblem;

/**
 * Reads the declarations file given with `-f`; `-` reads it from stdin with `readStdin`. Throws CliUsageError
 * naming the kind of file (`noun`, e.g. `targets`), the file and why, when it cannot be read.
 */
export async function readDeclarationsFile(
  file: string,
  noun: string,
  readStdin: () => Promise<string>,
): Promise<string> {
  try {
    return await readFileArgument(file, readStdin);
  } catch (error) {
    const why = describeFileError(error, file, 'read', { directory: 'pass the YAML file inside it' });
    throw new CliUsageError(`cannot read the ${noun} file ${file}: ${why}`);
  }
}
