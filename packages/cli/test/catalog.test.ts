import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  componentEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../src/program.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from '../../server/test/support/deploying-api.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const validators = [
  componentEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
];

/** Backstage's own checks of an entity, as its catalog runs them when it ingests one. */
const policies = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

/**
 * The entities of a multi-document catalog-info.yaml, each passing Backstage's entity policies (which throw
 * with Backstage's words) and checked by the Backstage validator of its kind.
 */
async function readCatalogFile(path: string): Promise<Entity[]> {
  const entities = parseAllDocuments(readFileSync(path, 'utf8')).map((document) => document.toJS() as Entity);
  for (const entity of entities) {
    expect(await policies.enforce(structuredClone(entity))).toBeDefined();
    const accepted = await Promise.all(validators.map((validator) => validator.check(entity)));
    expect(accepted.filter(Boolean), `${entity.kind} ${entity.metadata.name}`).toHaveLength(1);
  }
  return entities;
}

describe('pave catalog against a real server', () => {
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };

  beforeAll(async () => {
    api = await openDeployingApi('sqlite', { runtime: idleRuntime, worker: true });
    const ok = async (url: string, body: object) => {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    };
    await ok('/apps', { id: 'shop' });
    await ok('/apps/shop/envs', { id: 'dev', type: 'development' });
    await ok('/resource-definitions/apply', {
      definitions: [
        {
          id: 'shop-postgres',
          type: 'postgres',
          driver: 'static',
          driverInputs: {
            values: { host: 'db.internal', port: 5432, name: 'shop', database: 'shop', username: 'shop' },
            secrets: {
              password: 'hunter2-hunter2',
              url: 'postgresql://shop:hunter2-hunter2@db.internal/shop',
            },
          },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    const deployed = await api.deploy('shop', 'dev', {
      workloads: ['api', 'worker'].map((name) => ({
        spec: {
          apiVersion: 'score.dev/v1b1',
          metadata: { name },
          containers: { main: { image: 'node:20' } },
          resources: { db: { type: 'postgres', id: 'orders' } },
        },
        dir: '/srv/shop',
      })),
    });
    expect(deployed.status, JSON.stringify(deployed)).toBe('succeeded');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('export --dir says which directory it cannot make, why and what to do (exit 2)', async () => {
    const file = join(temporaryDir(), 'a-file');
    writeFileSync(file, 'in the way\n');
    const result = await pave('catalog', 'export', '--dir', file);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `pave: error: cannot create ${file} (--dir): a file of that name is in the way; ` +
        'give --dir a directory you may write to\n',
    );
  });

  it('export --dir under /proc, which refuses new directories, says so rather than hang', async () => {
    const result = await pave('catalog', 'export', '--dir', '/proc/pave-catalog/out');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'pave: error: cannot create /proc/pave-catalog/out (--dir): cannot create /proc/pave-catalog: /proc does ' +
        'not allow directories to be created in it; give --dir a directory you may write to\n',
    );
  });

  it('export --dir writes a catalog-info.yaml per app, one for the org and a Location of both', async () => {
    const dir = temporaryDir();
    const result = await pave('catalog', 'export', '--dir', dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `Wrote ${join(dir, 'catalog-info.yaml')} (1 Location)`,
        `Wrote ${join(dir, 'apps', 'shop', 'catalog-info.yaml')} (1 System, 2 Components, 1 Resource)`,
        `Wrote ${join(dir, 'org', 'catalog-info.yaml')} (1 User)`,
        '',
      ].join('\n'),
    );
    expect(readdirSync(dir).sort()).toEqual(['apps', 'catalog-info.yaml', 'org']);

    const [location] = await readCatalogFile(join(dir, 'catalog-info.yaml'));
    expect(location?.spec).toEqual({
      type: 'url',
      targets: ['./apps/shop/catalog-info.yaml', './org/catalog-info.yaml'],
    });
    const shop = await readCatalogFile(join(dir, 'apps', 'shop', 'catalog-info.yaml'));
    expect(shop.map((entity) => `${entity.kind} ${entity.metadata.name}`)).toEqual([
      'System shop',
      'Component shop.api',
      'Component shop.worker',
      'Resource shop.dev.shared.orders',
    ]);
    expect(shop[1]?.spec).toMatchObject({
      owner: 'user:default/admin',
      system: 'system:default/shop',
      dependsOn: ['resource:default/shop.dev.shared.orders'],
    });
    expect(shop[0]?.metadata.links).toEqual([{ url: `${server}/#/apps/shop`, title: 'shop in Pave' }]);
    expect(readFileSync(join(dir, 'apps', 'shop', 'catalog-info.yaml'), 'utf8')).not.toContain('hunter2');
    const org = await readCatalogFile(join(dir, 'org', 'catalog-info.yaml'));
    expect(org.map((entity) => `${entity.kind} ${entity.metadata.name}`)).toEqual(['User admin']);
  });

  it('export --portal-url links the entities to that portal', async () => {
    const dir = temporaryDir();
    const result = await pave('catalog', 'export', '--dir', dir, '--portal-url', 'https://pave.example.com');
    expect(result.code, result.stderr).toBe(0);
    const [system] = await readCatalogFile(join(dir, 'apps', 'shop', 'catalog-info.yaml'));
    expect(system?.metadata.links).toEqual([
      { url: 'https://pave.example.com/#/apps/shop', title: 'shop in Pave' },
    ]);
  });

  it('list prints kind, name, owner and system; -o json prints the API response', async () => {
    const table = await pave('catalog', 'list');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+NAME\s+OWNER\s+SYSTEM$/);
    expect(lines[2]).toMatch(/^Component\s+shop\.api\s+user:default\/admin\s+system:default\/shop$/);
    const json = await pave('catalog', 'list', '-o', 'json');
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { items: Entity[] }).items).toHaveLength(5);
  });

  it('list --limit prints a page and the command for the next one', async () => {
    const first = await pave('catalog', 'list', '--limit', '1', '--portal-url', 'https://pave.example.com');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^System\s+shop\s/m);
    expect(first.stdout).not.toMatch(/^User/m);
    const more =
      /^More entities: pave catalog list --portal-url https:\/\/pave\.example\.com --limit 1 --cursor (\S+)$/m.exec(
        first.stdout,
      );
    expect(more, first.stdout).not.toBeNull();
    const second = await pave('catalog', 'list', '--limit', '1', '--cursor', more![1]!, '-o', 'json');
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      items: [{ kind: 'User', metadata: { name: 'admin' } }],
      nextCursor: null,
    });
    const bad = await pave('catalog', 'list', '--limit', 'ten');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--limit');
  });

  it('export --dir writes every entity when the catalog spans several pages', async () => {
    // 1 + 120 apps and a user: more than the 100 apps, teams and users of a page.
    for (let index = 0; index < 120; index++) {
      const response = await api.call('POST', '/apps', { id: `app-${String(index).padStart(3, '0')}` });
      expect(response.statusCode, response.body).toBe(201);
    }
    const firstPage = await pave('catalog', 'list', '-o', 'json');
    expect((JSON.parse(firstPage.stdout) as { nextCursor: string | null }).nextCursor).not.toBeNull();
    const dir = temporaryDir();
    const result = await pave('catalog', 'export', '--dir', dir);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(join(dir, 'apps'))).toHaveLength(121);
    expect(readdirSync(join(dir, 'apps')).toSorted().at(-1)).toBe('shop');
    const [location] = await readCatalogFile(join(dir, 'catalog-info.yaml'));
    expect((location?.spec as { targets: string[] }).targets).toHaveLength(122);
    const last = await readCatalogFile(join(dir, 'apps', 'app-119', 'catalog-info.yaml'));
    expect(last.map((entity) => `${entity.kind} ${entity.metadata.name}`)).toEqual(['System app-119']);
    expect(
      (await readCatalogFile(join(dir, 'apps', 'shop', 'catalog-info.yaml'))).map((entity) => entity.kind),
    ).toEqual(['System', 'Component', 'Component', 'Resource']);
    const org = await readCatalogFile(join(dir, 'org', 'catalog-info.yaml'));
    expect(org.map((entity) => `${entity.kind} ${entity.metadata.name}`)).toEqual(['User admin']);
  });
});
