import type { Command } from 'commander';
import type { LogEvent } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { padEnd, visibleWidth } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type LogsOptions = ClientOptions & { app: string; env: string; tail?: string; follow?: boolean };

/** The most lines `--tail` may ask for (the server's limit). */
export const MAX_TAIL = 10_000;

/** `pave logs`: the output of an environment's workloads, optionally followed live. */
export function registerLogsCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('logs')
      .summary("Print (or follow) the logs of an environment's workloads")
      .description(
        "Print the logs of an environment's workloads (all of them, or WORKLOAD's) as `workload/container | line`",
      )
      .argument('[workload]', 'only this workload')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option('--tail <n>', `only the last N lines of each container (0 to ${MAX_TAIL})`)
      .option('-f, --follow', 'keep printing new lines until Ctrl-C'),
  )
    .addHelpText(
      'after',
      examples(
        'pave logs --app shop --env dev',
        'pave logs web --app shop --env dev --tail 100 -f',
        'pave logs web --app shop --env dev -o json | jq -r .line',
      ),
    )
    .action(async (workload: string | undefined, options: LogsOptions) => {
      const tail = options.tail === undefined ? undefined : parseTail(options.tail);
      const { client } = await clientFor(options, io);
      const printer = logPrinter(options.output, colorsFor(io.stdout, io.env));
      // Ctrl-C while following ends the stream quietly: that is how one stops `-f`.
      const controller = new AbortController();
      const stop = () => controller.abort();
      if (options.follow) process.once('SIGINT', stop);
      try {
        const query = {
          ...(workload !== undefined ? { workload } : {}),
          ...(tail !== undefined ? { tail } : {}),
          ...(options.follow ? { follow: true } : {}),
        };
        for await (const event of client.logs(options.app, options.env, query, controller.signal)) {
          io.stdout.write(printer(event));
        }
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}

/** Parses `--tail`: a whole number of lines from 0 to {@link MAX_TAIL}; throws CliUsageError otherwise. */
export function parseTail(text: string): number {
  const tail = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(tail) || tail > MAX_TAIL) {
    throw new CliUsageError(
      `--tail: "${text}" is not a number of lines; use a whole number from 0 to ${MAX_TAIL}`,
    );
  }
  return tail;
}

const PREFIX_COLORS = ['cyan', 'magenta', 'yellow', 'blue', 'green'] as const;

/**
 * Makes the function that renders each log event as one line (with its newline): with `-o json` the event as
 * one line of JSON, otherwise `workload/container | line`, the prefixes padded to the widest seen so far and,
 * when colour is on, coloured per workload (the same workload always gets the same colour).
 */
export function logPrinter(format: 'table' | 'json', colors: Colors): (event: LogEvent) => string {
  if (format === 'json') return (event) => `${JSON.stringify(event)}\n`;
  let width = 0;
  return (event) => {
    const prefix = `${event.workload}/${event.container}`;
    width = Math.max(width, visibleWidth(prefix));
    const color = colors[PREFIX_COLORS[hash(event.workload) % PREFIX_COLORS.length] ?? 'cyan'];
    return `${color(padEnd(prefix, width))} | ${event.line}\n`;
  };
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return value;
}
