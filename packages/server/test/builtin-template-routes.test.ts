import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TEMPLATES = fileURLToPath(new URL('../templates', import.meta.url));
const requireFile = createRequire(import.meta.url);

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<unknown>;

// How each built-in template's generated app answers HTTP, without its database (the template's own tests do
// the same). A new template with a route needs an entry here.
const HANDLERS: Record<string, (files: string) => Handler> = {
  'node-http': (files) => {
    const { createHandler } = requireFile(join(files, 'src/handler.js')) as {
      createHandler(rows: unknown): Handler;
    };
    const { memoryRows } = requireFile(join(files, 'src/rows.js')) as { memoryRows(): unknown };
    return createHandler(memoryRows());
  },
  'static-site': (files) => {
    const { serveStatic } = requireFile(join(files, 'static.js')) as {
      serveStatic(root: string, request: IncomingMessage, response: ServerResponse): Promise<unknown>;
    };
    return (request, response) => serveStatic(join(files, 'public'), request, response);
  },
};

// The path of the `route` resource in a template's score.yaml (which `pave init` prints the URL of), if any.
function routePath(files: string): string | undefined {
  const score = readFileSync(join(files, 'score.yaml'), 'utf8');
  return /type: route\n\s+params:[\s\S]*?\n\s+path: (\S+)/.exec(score)?.[1];
}

async function statusAt(handler: Handler, path: string): Promise<number> {
  const server = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    await response.arrayBuffer();
    return response.status;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('the URL `pave init` prints for a built-in template answers', () => {
  for (const id of readdirSync(TEMPLATES)) {
    const files = join(TEMPLATES, id, 'files');
    const path = routePath(files);
    if (path === undefined) continue;
    it(`${id}: GET ${path} answers 200`, async () => {
      const handler = HANDLERS[id];
      expect(handler, `${id} has a route: add how its app answers HTTP to HANDLERS`).toBeDefined();
      expect(await statusAt(handler!(files), path)).toBe(200);
    });
  }
});
