import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { WebhookTestResult } from '@pave/core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { PAVE_VERSION } from '../../version.ts';
import type { WebhookAllowList } from './ssrf.ts';

/** How long a receiver has to answer: a 2xx within this is a success. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** How much of a response body an attempt keeps. */
const RESPONSE_BODY_BYTES = 1024;

/** One message to send: its id (`webhook-id`, the same on every retry) and its exact body. */
export interface WebhookMessage {
  id: string;
  body: string;
}

/** The outcome of one attempt; `ok` when the receiver answered 2xx in time. */
export type SendResult = WebhookTestResult;

/**
 * Sends signed webhook requests (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256>`, one signature per secret, space-delimited) over keep-alive connections, through
 * the SSRF guard: the socket connects only to an address the allow list permits. Never throws for what the
 * receiver does; the result says it.
 */
export class WebhookSender {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly signers = new Map<string, StandardWebhook>();

  constructor(
    private readonly allow: WebhookAllowList,
    private readonly timeoutMs = WEBHOOK_TIMEOUT_MS,
  ) {
    this.http = new HttpAgent({ keepAlive: true, maxSockets: 8 });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 8 });
  }

  /**
   * POSTs `message` to `url`, signed with each of `secrets` (a receiver that knows any one of them verifies
   * it); `signal` aborts it (then the result is a failure).
   */
  async send(
    url: string,
    secrets: readonly string[],
    message: WebhookMessage,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    const refused = this.allow.refuseLiteral(url);
    if (refused)
      return { ok: false, statusCode: null, latencyMs: 0, error: refused.message, responseBody: '' };
    const at = new Date();
    const signatures = secrets.map((secret) => this.signer(secret).sign(message.id, at, message.body));
    const timestamp = String(Math.floor(at.getTime() / 1000));
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = send(target, {
          method: 'POST',
          agent: target.protocol === 'https:' ? this.https : this.http,
          lookup: this.allow.lookup(url),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(message.body),
            'user-agent': `Pave-Webhooks/${PAVE_VERSION}`,
            'webhook-id': message.id,
            'webhook-timestamp': timestamp,
            'webhook-signature': signatures.join(' '),
          },
        });
        request.once('response', resolve);
        request.once('error', reject);
        request.end(message.body);
      });
      const responseBody = await readPrefix(response);
      const statusCode = response.statusCode ?? null;
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      return {
        ok,
        statusCode,
        latencyMs: latency(),
        error: ok ? null : `the receiver answered ${statusCode ?? 'without a status'}`,
        responseBody,
      };
    } catch (error) {
      return {
        ok: false,
        statusCode: null,
        latencyMs: latency(),
        error: describe(error, timeout, this.timeoutMs),
        responseBody: '',
      };
    }
  }

  /** Closes idle connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private signer(secret: string): StandardWebhook {
    let signer = this.signers.get(secret);
    if (!signer) {
      signer = new StandardWebhook(secret);
      if (this.signers.size > 1000) this.signers.clear();
      this.signers.set(secret, signer);
    }
    return signer;
  }
}

/** The first KiB of a response body as text; the rest is read and dropped so the connection can be reused. */
async function readPrefix(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < RESPONSE_BODY_BYTES) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_BYTES).toString('utf8');
}

/** Why an attempt got no answer, in words. */
function describe(error: unknown, timeout: AbortSignal, timeoutMs: number): string {
  const found = refusalIn(error);
  if (found) return found;
  if (timeout.aborted) return `no answer within ${timeoutMs / 1000} s`;
  const failure = error as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number };
  if (failure.name === 'AbortError') return 'stopped: Pave is shutting down';
  const code = failure.code;
  const where = failure.address
    ? `${failure.address}${failure.port ? `:${failure.port}` : ''}`
    : 'the receiver';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${failure.hostname ?? "of the receiver's URL"} does not resolve (${code})`;
    case 'ECONNREFUSED':
      return `the connection to ${where} was refused (${code})`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection to ${where} was closed before an answer (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `${where} cannot be reached (${code})`;
    default:
      break;
  }
  if (code && /CERT|SELF_SIGNED|TLS|SSL/.test(code))
    return `its TLS certificate is not trusted: ${failure.message} (${code})`;
  return failure.message
    ? `${failure.message}${code && !failure.message.includes(code) ? ` (${code})` : ''}`
    : String(error);
}

function refusalIn(error: unknown): string | undefined {
  const failure = error as { code?: string; message?: string; errors?: unknown[] };
  if (failure?.code === 'PAVE_WEBHOOK_REFUSED') return failure.message;
  for (const inner of failure?.errors ?? []) {
    const found = refusalIn(inner);
    if (found) return found;
  }
  return undefined;
}
