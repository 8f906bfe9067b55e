import type { Command } from 'commander';
import type { LogEvent } from '@pave/core';
import { DURATION_FORMAT, parseDuration } from '../duration.ts';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { streamItemText } from '../output/output.ts';
import type { OutputFormat } from '../output/output.ts';
import { padEnd, visibleWidth } from '../output/table.ts';
import { escapeControlCharacters } from '../output/terminal-text.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type LogsOptions = ClientOptions & {
  app: string;
  env: string;
  tail?: string;
  since?: string;
  timestamps?: boolean;
  follow?: boolean;
};

/** The most lines `--tail` may ask for (the server's limit). */
export const MAX_TAIL = 10_000;

/** `pave logs`: the output of an environment's workloads, optionally followed live. */
export function registerLogsCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('logs')
      .summary("Print (or follow) the logs of an environment's workloads")
      .description(
        "Print the logs of an environment's workloads (all of them, or WORKLOAD's) as `workload/container | line`, " +
          'the lines of every container merged in time order; with -o json, one JSON object per line (JSON ' +
          'Lines, as the stream goes on), with -o yaml one YAML document per line',
      )
      .argument('[workload]', 'only this workload')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option(
        '--tail <n>',
        `only the last N lines, counted across the containers merged by time (0 to ${MAX_TAIL}; default 100)`,
      )
      .option('--since <when>', 'only lines since this long ago (30s, 10m, 2h, 1d) or this RFC 3339 time')
      .option('--timestamps', 'start each line with the time it was printed (RFC 3339, UTC)')
      .option('-f, --follow', 'keep printing new lines until Ctrl-C'),
  )
    .addHelpText(
      'after',
      examples(
        'pave logs --app shop --env dev',
        'pave logs web --app shop --env dev --tail 100 -f',
        'pave logs --app shop --env dev --since 10m --timestamps',
        'pave logs web --app shop --env dev -o json | jq -r .line',
      ),
    )
    .action(async (workload: string | undefined, options: LogsOptions) => {
      const tail = options.tail === undefined ? undefined : parseTail(options.tail);
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const { client } = await clientFor(options, io);
      const printer = logPrinter(options.output, colorsFor(io.stdout, io.env), {
        timestamps: options.timestamps === true,
      });
      // Ctrl-C while following ends the stream quietly: that is how one stops `-f`.
      const controller = new AbortController();
      const stop = () => controller.abort();
      if (options.follow) process.once('SIGINT', stop);
      try {
        const query = {
          ...(workload !== undefined ? { workload } : {}),
          ...(tail !== undefined ? { tail } : {}),
          ...(since !== undefined ? { since } : {}),
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

/**
 * Parses `--since`: a duration back from `now` (`30s`, `10m`, `2h`, `1d`) or an RFC 3339 time with its
 * offset (`2026-05-01T10:00:00Z`). Returns the instant as ISO 8601 UTC, as the API's `since` wants;
 * throws CliUsageError naming both forms otherwise.
 */
export function parseSince(text: string, now: Date = new Date()): string {
  const trimmed = text.trim();
  if (/^\d+[smhd]$/.test(trimmed))
    return new Date(now.getTime() - parseDuration(trimmed, '--since')).toISOString();
  const time = RFC3339.test(trimmed) ? new Date(trimmed) : null;
  if (!time || Number.isNaN(time.getTime())) {
    throw new CliUsageError(
      `--since: "${text}" is neither a duration nor a time; use ${DURATION_FORMAT}, ` +
        'or an RFC 3339 time such as 2026-05-01T10:00:00Z',
    );
  }
  return time.toISOString();
}

const RFC3339 = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

const PREFIX_COLORS = ['cyan', 'magenta', 'yellow', 'blue', 'green'] as const;

/**
 * Makes the function that renders each log event (with its newline): with `-o json` the event as one line
 * of JSON, with `-o yaml` as one YAML document starting with `---`, otherwise `workload/container | line`,
 * the prefixes padded to the widest seen so far and, when colour is on, coloured per workload (the same
 * workload always gets the same colour). With `timestamps`, text lines start with the event's time (the data
 * formats always carry it as `at`). Control characters in the prefix and the time are escaped.
 */
export function logPrinter(
  format: OutputFormat,
  colors: Colors,
  options: { timestamps?: boolean } = {},
): (event: LogEvent) => string {
  if (format !== 'table') return (event) => streamItemText(format, event);
  let width = 0;
  return (event) => {
    // The line is the workload's output, printed as it wrote it (as `docker logs` does); the prefix and the
    // time are the server's metadata, and their control characters are shown escaped, never obeyed.
    const prefix = escapeControlCharacters(`${event.workload}/${event.container}`);
    width = Math.max(width, visibleWidth(prefix));
    const color = colors[PREFIX_COLORS[hash(event.workload) % PREFIX_COLORS.length] ?? 'cyan'];
    const time = options.timestamps ? `${colors.dim(escapeControlCharacters(event.at))} ` : '';
    return `${time}${color(padEnd(prefix, width))} | ${event.line}\n`;
  };
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return value;
}
