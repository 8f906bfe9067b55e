import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
interface Received {
  /** The request target: path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1 that answers each request with the status `answer` chooses (null: it
 * never answers), after `delayMs`.
 */
export interface Receiver {
  /** Its URL through `localhost` (a name: the SSRF guard resolves it at send time). */
  url: string;
  port: number;
  requests: Received[];
  answer: (request: Received, index: number) => number | null;
  close(): Promise<void>;
}

export async function startReceiver(
  answer: Receiver['answer'] = () => 200,
  options: { delayMs?: number } = {},
): Promise<Receiver> {
  const requests: Received[] = [];
  const receiver = { requests, answer } as Receiver;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = {
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(received);
      const status = receiver.answer(received, requests.length - 1);
      if (status === null) return;
      setTimeout(() => {
        response.statusCode = status;
        response.end(response.statusCode < 300 ? 'ok' : 'receiver is down');
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://localhost:${receiver.port}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Polls `check` until it holds (at most `ms`). */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The Standard Webhooks headers of a request, for verify(). */
export function signatureHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return {
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  };
}
