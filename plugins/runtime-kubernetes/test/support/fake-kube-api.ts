import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClients, type KubernetesClients } from '../../src/index.ts';
import discoveryApps from '../recorded/discovery-apps-v1.json' with { type: 'json' };
import discoveryNetworking from '../recorded/discovery-networking-v1.json' with { type: 'json' };
import discoveryCore from '../recorded/discovery-v1.json' with { type: 'json' };
import errors from '../recorded/errors.json' with { type: 'json' };

/** A request the client made, as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** The body parsed as JSON (undefined without a body). */
  body: unknown;
}

/** One canned answer. */
export interface Reply {
  status?: number;
  /** JSON-encoded unless it is a string. */
  body: unknown;
  contentType?: string;
}

/**
 * Answers requests with `method` and `path` (without the query; a string matches exactly): a reply, a list
 * of replies given in turn (the last one repeats), or a function of the request.
 */
export interface Route {
  method: string;
  path: string | RegExp;
  reply: Reply | Reply[] | ((request: SeenRequest) => Reply);
}

/** A local HTTP server standing in for the Kubernetes API server. */
export interface FakeKubeApi {
  url: string;
  kubeConfig: KubeConfig;
  /** A kubeconfig file (context "fake") pointing at the server. */
  kubeconfigFile: string;
  clients: KubernetesClients;
  /** Every request, in order, discovery included. */
  requests: SeenRequest[];
  /** The requests other than API discovery (`GET /api/v1`, `GET /apis/<group>/<version>`). */
  calls(): SeenRequest[];
  close(): Promise<void>;
}

const DISCOVERY: Route[] = [
  { method: 'GET', path: '/api/v1', reply: { body: discoveryCore } },
  { method: 'GET', path: '/apis/apps/v1', reply: { body: discoveryApps } },
  { method: 'GET', path: '/apis/networking.k8s.io/v1', reply: { body: discoveryNetworking } },
];

const isDiscovery = (request: SeenRequest) =>
  request.method === 'GET' && DISCOVERY.some((route) => route.path === request.path);

/**
 * Starts a fake API server on 127.0.0.1 that replays recorded responses: the API discovery documents of a
 * Kubernetes 1.31 API server plus `routes`. A request no route answers gets the API server's 404 Status,
 * which is what a real one says about an object that does not exist. Like the API server, it applies a
 * request's equality `labelSelector` to the items of a recorded list.
 */
export async function startFakeKubeApi(routes: Route[]): Promise<FakeKubeApi> {
  const requests: SeenRequest[] = [];
  const turns = new Map<Route, number>();
  const all = [...DISCOVERY, ...routes];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: request.headers['content-type'],
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      requests.push(seen);
      const route = all.find(
        (candidate) =>
          candidate.method === seen.method &&
          (typeof candidate.path === 'string'
            ? candidate.path === seen.path
            : candidate.path.test(seen.path)),
      );
      let reply: Reply;
      if (!route) reply = { status: 404, body: errors.notFound };
      else if (typeof route.reply === 'function') reply = route.reply(seen);
      else if (Array.isArray(route.reply)) {
        const turn = turns.get(route) ?? 0;
        turns.set(route, turn + 1);
        reply = route.reply[Math.min(turn, route.reply.length - 1)] ?? { status: 500, body: 'no reply' };
      } else reply = route.reply;
      const selected = seen.query.labelSelector
        ? selectItems(reply.body, seen.query.labelSelector)
        : reply.body;
      const body = typeof selected === 'string' ? selected : JSON.stringify(selected);
      response.writeHead(reply.status ?? 200, {
        'content-type':
          reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain' : 'application/json'),
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pave-fake-kube-'));
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigFile,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      // The client refuses plain HTTP unless TLS verification is off; the server is on loopback.
      `- cluster: { server: '${url}', insecure-skip-tls-verify: true }`,
      '  name: fake',
      'users:',
      '- name: fake',
      '  user: { token: recorded }',
      'contexts:',
      '- context: { cluster: fake, user: fake }',
      '  name: fake',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigFile);
  return {
    url,
    kubeConfig,
    kubeconfigFile,
    clients: kubernetesClients(kubeConfig),
    requests,
    calls: () => requests.filter((request) => !isDiscovery(request)),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the API server answers a server-side apply with: the object as stored, with server-set fields. */
export function appliedObject(request: SeenRequest): Reply {
  const object = request.body as { metadata?: Record<string, unknown> };
  return {
    body: {
      ...object,
      metadata: {
        ...object.metadata,
        uid: '3b9d2c1a-0f4e-4d5c-8b7a-6e5f4d3c2b1a',
        resourceVersion: '48211',
        generation: 1,
        creationTimestamp: '2026-11-28T10:59:58Z',
        managedFields: [
          {
            manager: request.query.fieldManager,
            operation: 'Apply',
            apiVersion: (request.body as { apiVersion?: string }).apiVersion,
            time: '2026-11-28T10:59:58Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {},
          },
        ],
      },
    },
  };
}

/** `body` with only the list items whose labels match every `key=value` of `selector`. */
function selectItems(body: unknown, selector: string): unknown {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { items?: unknown }).items))
    return body;
  const wanted = selector.split(',').map((term) => term.split('=') as [string, string]);
  const items = (body as { items: Array<{ metadata?: { labels?: Record<string, string> } }> }).items;
  return {
    ...body,
    items: items.filter((item) => wanted.every(([key, value]) => item.metadata?.labels?.[key] === value)),
  };
}
