/** A help section listing example invocations, for `addHelpText('after', ...)`. */
export function examples(...commands: string[]): string {
  return `\nExamples:\n${commands.map((line) => `  $ ${line}`).join('\n')}\n`;
}
