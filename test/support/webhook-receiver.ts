import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { PaveEvent } from '@pave/core';

/** One request that carried a valid Standard Webhooks signature. */
export interface ReceivedWebhook {
  /** The `webhook-id` header: the same on every retry of one delivery. */
  id: string;
  event: PaveEvent;
  /** When it arrived (Date.now()). */
  at: number;
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on 127.0.0.1, as a customer would write one: it verifies every request with
 * `new Webhook(secret).verify(rawBody, headers)` and answers `status` (200 unless told otherwise). It can
 * be stopped (the port refuses connections) and started again on the same port.
 */
export interface WebhookReceiver {
  url: string;
  /** The signing secret to verify with; requests arriving before it is set are refused. */
  secret: string | undefined;
  /** What it answers a verified request with. */
  status: number;
  /** Every verified request, in order of arrival (retries and redeliveries included). */
  readonly received: ReceivedWebhook[];
  /** Requests whose signature did not verify, with why. */
  readonly rejected: string[];
  /** Every request's raw headers and body, verified or not (to look for what must never be sent). */
  readonly raw: string[];
  /** The verified requests it acknowledged (2xx), one per `webhook-id` (the first), in order of arrival. */
  unique(): ReceivedWebhook[];
  /** Closes the listening socket and every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1 (or on `port`). */
export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const rejected: string[] = [];
  const raw: string[] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const receiver: WebhookReceiver = {
    url: '',
    secret: undefined,
    status: 200,
    received,
    rejected,
    raw,
    unique() {
      const seen = new Set<string>();
      return received.filter((r) => r.status < 300 && !seen.has(r.id) && Boolean(seen.add(r.id)));
    },
    async stop() {
      if (!server) return;
      const closing = server;
      server = undefined;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    async start() {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          raw.push(`${JSON.stringify(request.headers)}\n${body}`);
          try {
            if (!receiver.secret) throw new Error('no secret set yet');
            const event = new Webhook(receiver.secret).verify(body, headerRecord(request.headers));
            received.push({
              id: String(request.headers['webhook-id']),
              event: event as PaveEvent,
              at: Date.now(),
              status: receiver.status,
            });
          } catch (error) {
            rejected.push((error as Error).message);
            response.statusCode = 400;
            response.end('signature does not verify\n');
            return;
          }
          response.statusCode = receiver.status;
          response.end(receiver.status < 300 ? 'ok\n' : 'receiver failing on purpose\n');
        });
      });
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', () => resolve());
      });
      port = (listening.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${port}/hooks`;
    },
  };
  await receiver.start();
  return receiver;
}

/** Node's headers as the flat record `verify` takes (the Standard Webhooks headers are single-valued). */
function headerRecord(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : (value ?? ''),
    ]),
  );
}
