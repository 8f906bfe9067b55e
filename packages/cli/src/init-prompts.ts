// Loaded by `pave init` only when a person is at the terminal: asks for the answers and secrets not given.
import { cancel, confirm, isCancel, password, select, text } from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';
import type { TemplateAnswers, TemplateRecord } from '@pave/core';
import { coerceAnswer } from './commands/init.ts';
import { CliUsageError } from './errors.ts';
import type { CliIo } from './io.ts';

function cancelled(): never {
  cancel('Cancelled: nothing was written or created.');
  throw new CliUsageError('pave init was cancelled; nothing was written or created');
}

/**
 * Asks, on the terminal, for each parameter of `template` that `answers` lacks (a choice for an enum, yes/no
 * for a boolean, text otherwise, the default offered) and for each secret value `secrets` lacks (typed
 * unseen). Fills both in place. Ctrl-C cancels the command (CliUsageError) before anything is written.
 */
export async function askTemplateAnswers(
  template: TemplateRecord,
  answers: TemplateAnswers,
  secrets: Record<string, string>,
  io: CliIo,
  /** The terminal, for tests; default stdin, and stderr so that stdout stays the command's result. */
  terminal: { input?: Readable; output: Writable } = { output: io.stderr as unknown as Writable },
): Promise<void> {
  const required = new Set(template.parameters.required ?? []);
  const common = terminal;
  for (const [name, schema] of Object.entries(template.parameters.properties)) {
    if (name in answers) continue;
    const label = typeof schema.title === 'string' ? schema.title : name;
    const message = `${label}${typeof schema.description === 'string' ? `: ${schema.description}` : ''}`;
    const fallback = schema.default;
    let answer: unknown;
    if (Array.isArray(schema.enum)) {
      answer = await select({
        ...common,
        message,
        options: schema.enum.map((value) => ({ value, label: String(value) })),
        ...(fallback !== undefined ? { initialValue: fallback } : {}),
      });
    } else if (schema.type === 'boolean') {
      answer = await confirm({ ...common, message, initialValue: fallback === true });
    } else {
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
      answer = await text({
        ...common,
        message,
        ...(fallback !== undefined ? { initialValue: String(fallback) } : {}),
        validate: (value) => {
          if (!value) return required.has(name) ? `${name} is required` : undefined;
          if (pattern && schema.type !== 'integer' && !pattern.test(value))
            return `must match ${schema.pattern}`;
          if (schema.type === 'integer' && !/^-?\d+$/u.test(value)) return 'must be a whole number';
          return undefined;
        },
      });
      if (!isCancel(answer) && answer === '' && !required.has(name)) continue;
      if (!isCancel(answer)) answer = coerceAnswer(String(answer), schema);
    }
    if (isCancel(answer)) cancelled();
    answers[name] = answer;
  }
  for (const value of template.setup.values.filter((v) => v.secret && !secrets[v.key])) {
    const answer = await password({
      ...common,
      message: `${value.key} (secret)${value.description ? `: ${value.description}` : ''}`,
      validate: (typed) => (typed ? undefined : `${value.key} is required`),
    });
    if (isCancel(answer)) cancelled();
    secrets[value.key] = answer;
  }
}
