import { request as httpRequest, type IncomingMessage } from 'node:http';

/**
 * The part of `fetch` that PaveClient uses, on node:http. Node 20's built-in fetch (undici) compiles a
 * WebAssembly HTTP parser on first use, which costs a short-lived CLI process about 0.3 s; this does not.
 * Supports method, headers, a string body and an AbortSignal; the response offers status, ok, statusText,
 * headers.get, text() and body as an async iterable of chunks (for Server-Sent Events).
 */
export async function nodeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  // node:https brings TLS and most of node:crypto (about 6 ms of a command's start): only for https servers.
  const send = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: init.method ?? 'GET',
        headers: {
          ...(init.headers as Record<string, string>),
          ...(typeof init.body === 'string'
            ? { 'content-length': String(Buffer.byteLength(init.body)) }
            : {}),
        },
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (response) => resolve(toResponse(response)),
    );
    request.on('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
    request.end(typeof init.body === 'string' ? init.body : undefined);
  });
}

function toResponse(message: IncomingMessage): Response {
  const status = message.statusCode ?? 0;
  let consumed = false;
  const text = async () => {
    consumed = true;
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
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
