// What the bench's own Fastify servers (bare-fastify.mjs, floor-fastify.mjs) share: their port argument, and
// listening on loopback, saying where on one JSON line, until SIGTERM or SIGINT.

/** The TCP port of argument `text` (0 picks a free one); exits with a usage message for anything else. */
export function portArgument(script, text = '0') {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${script}: "${text}" is not a TCP port`);
    process.exit(2);
  }
  return port;
}

/** Listens on 127.0.0.1:`port`, prints {"url": …} once it does, and closes on SIGTERM or SIGINT. */
export async function serve(app, port) {
  const url = await app.listen({ host: '127.0.0.1', port });
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
