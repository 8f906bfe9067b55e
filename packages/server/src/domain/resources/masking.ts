import type {
  DriverContext,
  DriverLogger,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';

/** Secrets shorter than this are masked only as they are: their encoded forms would mask ordinary text. */
const MIN_ENCODED_SECRET_LENGTH = 4;

/**
 * The fewest characters a secret value may have (an empty one is allowed: it masks nothing), and below which a
 * secret is not looked for in other text: a shorter one would be found, and masked, in ordinary words.
 */
export const MIN_SECRET_LENGTH = 4;

/** The lines of a multi-line secret at least this long are masked on their own too. */
const MIN_SECRET_LINE_LENGTH = 8;

/**
 * `text` with every secret in it replaced by `***`: each as it is, JSON-escaped and URL-encoded (as a driver
 * quoting a request or a connection string prints it), longest first so no part of a longer one survives. The
 * lines of a multi-line secret (a PEM key) are masked one by one as well, since logs come a line at a time.
 */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const forms = [...secrets]
    .filter((secret) => secret.length > 0)
    .flatMap((secret) => [
      secret,
      JSON.stringify(secret).slice(1, -1),
      ...(secret.length >= MIN_ENCODED_SECRET_LENGTH ? [encodeURIComponent(secret)] : []),
      ...(secret.includes('\n')
        ? secret
            .split(/\r?\n/)
            .map((line) => line.trim())
            .filter((line) => line.length >= MIN_SECRET_LINE_LENGTH)
        : []),
    ]);
  return [...new Set(forms)]
    .sort((x, y) => y.length - x.length)
    .reduce((masked, secret) => masked.split(secret).join('***'), text);
}

/**
 * Every secret string Pave knows for one resource: the driver secrets of each of `inputs` (the inputs its
 * driver gets now and those it was provisioned with) and the secret outputs they clone from, its own recorded
 * secret outputs (`outputs`), and each secret output of another resource (`others`: the environment's) that
 * its params hold, which placeholders such as `${resources.db.password}` put there.
 */
export function resourceSecrets(
  resource: { inputs: Array<ResourceInputs | null>; outputs?: ResourceOutputs | undefined },
  others: Iterable<ResourceOutputs>,
): string[] {
  const inputs = resource.inputs.filter((given) => given !== null);
  const secrets = new Set([
    ...inputs.flatMap((given) => [...stringsIn(given.driverSecrets), ...stringsIn(given.cloneFrom?.secrets)]),
    ...stringsIn(resource.outputs?.secrets),
  ]);
  const params = inputs.flatMap((given) => stringsIn(given.params));
  for (const other of others) {
    for (const secret of Object.values(other.secrets)) {
      if (secret.length > 0 && params.some((param) => param.includes(secret))) secrets.add(secret);
    }
  }
  return [...secrets].filter((secret) => secret.length > 0);
}

/** Every string and number in `value`, as strings. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/**
 * `driver` as the control plane calls it about one resource: whatever the driver says about it has `secrets`
 * (resourceSecrets) masked before Pave journals, records, logs or returns it — its rejections (message and
 * field problems; the error keeps its name, so it maps to the same HTTP status), its check failures, the
 * drift its read reports and the lines it logs. Drivers mask what they know; this masks what only Pave
 * knows, such as params built from other resources' secret outputs.
 */
export function maskingDriver(driver: ResourceDriver, secrets: string[]): ResourceDriver {
  const mask = (text: string) => maskSecrets(text, secrets);
  const masked = <T>(call: (ctx: DriverContext) => Promise<T>, ctx: DriverContext): Promise<T> =>
    call({ ...ctx, logger: maskingLogger(ctx.logger, mask) }).catch((error: unknown) => {
      throw maskedError(error, mask);
    });
  return {
    name: driver.name,
    check: async (inputs, ctx) =>
      (await masked((c) => driver.check(inputs, c), ctx)).map((failure) => ({
        ...failure,
        reason: mask(failure.reason),
      })),
    diff: (id, olds, news, ctx) => masked((c) => driver.diff(id, olds, news, c), ctx),
    create: (inputs, ctx) => masked((c) => driver.create(inputs, c), ctx),
    update: (id, olds, news, ctx) => masked((c) => driver.update(id, olds, news, c), ctx),
    read: async (id, inputs, ctx) => {
      const found = await masked((c) => driver.read(id, inputs, c), ctx);
      return found?.drift ? { ...found, drift: found.drift.map(mask) } : found;
    },
    delete: (id, inputs, ctx) => masked((c) => driver.delete(id, inputs, c), ctx),
  };
}

/** `logger` with `mask` applied to each line's message and string fields before it is written. */
export function maskingLogger(logger: DriverLogger, mask: (text: string) => string): DriverLogger {
  const log =
    (write: DriverLogger['info']) =>
    (message: string, fields?: Record<string, unknown>): void =>
      write(
        mask(message),
        fields &&
          Object.fromEntries(
            Object.entries(fields).map(([key, value]) => [
              key,
              typeof value === 'string' ? mask(value) : value,
            ]),
          ),
      );
  return {
    debug: log((message, fields) => logger.debug(message, fields)),
    info: log((message, fields) => logger.info(message, fields)),
    warn: log((message, fields) => logger.warn(message, fields)),
    error: log((message, fields) => logger.error(message, fields)),
  };
}

/**
 * A driver's rejection with its message and field problems masked, under the same name. Its cause and other
 * properties stay behind: they may quote what was masked.
 */
function maskedError(error: unknown, mask: (text: string) => string): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const masked = new Error(mask(original.message));
  masked.name = original.name;
  const problems = (original as { errors?: unknown }).errors;
  if (Array.isArray(problems)) {
    Object.assign(masked, {
      errors: problems.map((problem: { path?: unknown; message?: unknown }) => ({
        ...problem,
        message: mask(String(problem.message)),
      })),
    });
  }
  return masked;
}
