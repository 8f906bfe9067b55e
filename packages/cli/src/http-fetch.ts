import { request as httpRequest, type IncomingMessage } from 'node:http';

/**
 * How long a request of {@link nodeFetch} may take, and the error it fails with when that runs out. The limit
 * holds for making the connection and for each part of the upload (a slow link that is still taking the body
 * is not cut); then an ordinary request must have its whole answer within `ms` of the end of the upload. An
 * event stream (`accept: text/event-stream`), or any request with `untilSent`, is not held to it once sent:
 * a followed stream may rightly stay quiet, and some requests are answered only when long work is done.
 */
export interface RequestTimeout {
  /** Milliseconds; 0 for no limit. */
  ms: number;
  /** The error the request fails with (from fetch, or from reading its answer). */
  error: (method: string, url: URL) => Error;
  /** Hold only the sending of the request to the limit, not the wait for its answer. */
  untilSent?: boolean;
}

// The upload goes in parts this big, each written once the last is out, so that each restarts the limit.
const UPLOAD_PART_BYTES = 64 * 1024;

/**
 * The part of `fetch` that PaveClient uses, on node:http. Node 20's built-in fetch (undici) compiles a
 * WebAssembly HTTP parser on first use, which costs a short-lived CLI process about 0.3 s; this does not.
 * Supports method, headers, a string body and an AbortSignal; the response offers status, ok, statusText,
 * headers.get, text() and body as an async iterable of chunks (for Server-Sent Events). With `timeout`, a
 * request that runs out of it fails with `timeout.error` (see {@link RequestTimeout}).
 */
export async function nodeFetch(
  input: string | URL | Request,
  init: RequestInit = {},
  timeout?: RequestTimeout,
): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const method = init.method ?? 'GET';
  const headers = init.headers as Record<string, string> | undefined;
  const stream = headers?.accept === 'text/event-stream';
  // node:https brings TLS and most of node:crypto (about 6 ms of a command's start): only for https servers.
  const send = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    let answer: IncomingMessage | undefined;
    let timedOut: Error | undefined;
    const request = send(
      url,
      {
        method,
        headers: {
          ...headers,
          ...(typeof init.body === 'string'
            ? { 'content-length': String(Buffer.byteLength(init.body)) }
            : {}),
        },
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (response) => {
        answer = response;
        response.once('end', stop).once('close', stop);
        resolve(toResponse(response, () => timedOut));
      },
    );
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    // (Re)starts the limit: at the start, after each part of the upload, and at the end of the upload.
    function restart() {
      clearTimeout(timer);
      if (!timeout || timeout.ms <= 0 || settled) return;
      timer = setTimeout(() => {
        // An answer already received in full (a 204 nobody reads) is not cut.
        if (answer?.complete) return;
        timedOut = timeout.error(method, url);
        answer?.destroy(timedOut);
        request.destroy(timedOut);
      }, timeout.ms);
      // The socket holds the process while the request is on; the timer alone should not.
      timer.unref();
    }
    function stop() {
      settled = true;
      clearTimeout(timer);
    }
    restart();
    // Sent in full (so connected): the wait for the answer begins.
    request.once('finish', () => (stream || timeout?.untilSent ? stop() : restart()));
    request.on('error', (error) => {
      stop();
      reject(timedOut ?? new TypeError('fetch failed', { cause: error }));
    });
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : Buffer.alloc(0);
    let sent = 0;
    const sendPart = (error?: Error | null) => {
      if (error || request.destroyed) return;
      if (sent > 0) restart();
      if (sent >= body.length) return void request.end();
      const part = body.subarray(sent, sent + UPLOAD_PART_BYTES);
      sent += part.length;
      request.write(part, sendPart);
    };
    sendPart();
  });
}

// `timedOut`: the error the request was cut with, if it was (reading the rest of the answer fails with it).
function toResponse(message: IncomingMessage, timedOut: () => Error | undefined): Response {
  const status = message.statusCode ?? 0;
  let consumed = false;
  const text = async () => {
    consumed = true;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of message) chunks.push(chunk as Buffer);
    } catch (error) {
      throw timedOut() ?? error;
    }
    return Buffer.concat(chunks).toString('utf8');
  };
  const response = {
    status,
    ok: status >= 200 && status < 300,
    statusText: message.statusMessage ?? '',
    headers: {
      get: (name: string) => {
        const value = message.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : (value ?? null);
      },
    },
    text,
    json: async () => JSON.parse(await text()) as unknown,
    get body() {
      return consumed ? null : message;
    },
  };
  return response as unknown as Response;
}
