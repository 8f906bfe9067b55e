import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { CATALOG_ANNOTATIONS, CATALOG_API_VERSION, allPages, type CatalogEntity } from '@pave/core';
import { makeDirectories, whyUnmade } from '../directories.ts';
import { CliUsageError } from '../errors.ts';
import { describeFileError } from '../file-errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

const entityColumns: Column<CatalogEntity>[] = [
  { header: 'kind', value: (entity) => entity.kind },
  { header: 'name', value: (entity) => entity.metadata.name },
  { header: 'owner', value: (entity) => ('owner' in entity.spec ? entity.spec.owner : '-') },
  { header: 'system', value: (entity) => ('system' in entity.spec ? entity.spec.system : '-') },
];

/** One `catalog-info.yaml` that `pave catalog export` writes: its path under the directory, and what it holds. */
export interface CatalogFile {
  /** Relative to the export directory, with `/`: `apps/<app>/catalog-info.yaml`, `org/...`, or the root. */
  path: string;
  entities: Array<Record<string, unknown>>;
}

/**
 * The files of an export: `apps/<app>/catalog-info.yaml` with each app's System, Components and Resources,
 * `org/catalog-info.yaml` with the Groups and Users (when the caller may list them), and at the root a
 * `catalog-info.yaml` holding one Backstage Location whose targets are the others, so that registering
 * that one URL in Backstage imports them all.
 */
export function catalogFiles(entities: readonly CatalogEntity[]): CatalogFile[] {
  const byApp = new Map<string, CatalogEntity[]>();
  const org: CatalogEntity[] = [];
  for (const entity of entities) {
    const app = entity.metadata.annotations[CATALOG_ANNOTATIONS.app];
    if (app === undefined) org.push(entity);
    else byApp.set(app, [...(byApp.get(app) ?? []), entity]);
  }
  const files: CatalogFile[] = [...byApp].map(([app, items]) => ({
    path: `apps/${app}/catalog-info.yaml`,
    entities: items,
  }));
  if (org.length) files.push({ path: 'org/catalog-info.yaml', entities: org });
  const location = {
    apiVersion: CATALOG_API_VERSION,
    kind: 'Location',
    metadata: {
      name: 'pave',
      description: 'Everything `pave catalog export` wrote: the apps of Pave, their teams and users.',
    },
    spec: { type: 'url', targets: files.map((file) => `./${file.path}`) },
  };
  return [{ path: 'catalog-info.yaml', entities: [location] }, ...files];
}

/** A file's text: one YAML document per entity, after a line saying where it came from. */
function fileText(file: CatalogFile, server: string): string {
  const documents = file.entities.map((entity) => stringify(entity, { lineWidth: 0 }));
  return `# Written by \`pave catalog export\` from ${server}; it is overwritten by the next export.\n${documents
    .map((document) => `---\n${document}`)
    .join('')}`;
}

/** How many entities of each kind, for people: `1 System, 2 Components`. */
function kindCounts(entities: CatalogFile['entities']): string {
  const counts = new Map<string, number>();
  for (const entity of entities) counts.set(String(entity.kind), (counts.get(String(entity.kind)) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${count} ${kind}${count === 1 ? '' : 's'}`).join(', ');
}

/** `pave catalog list|export`: what Pave runs, as the entities of a Backstage software catalog. */
export function registerCatalogCommands(program: Command, io: CliIo): void {
  const catalog = program
    .command('catalog')
    .description(
      'Show or export the apps you may read, their workloads and resources (and teams and users) as Backstage catalog entities',
    )
    .addHelpText(
      'after',
      examples('pave catalog list', 'pave catalog export --dir ./catalog') +
        '\nSee docs/backstage.md for how Backstage reads them.\n',
    );

  addClientOptions(
    catalog
      .command('list')
      .description(
        'List the catalog entities: kind, name, owner and system, a page at a time (apps, then teams, then users)',
      )
      .option(
        '--limit <n>',
        'the entities of at most this many apps, teams or users (100 unless given; at most 500)',
      )
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)')
      .option('--portal-url <url>', "the portal's URL for entity links (default: the server's URL)"),
  )
    .addHelpText(
      'after',
      examples('pave catalog list', 'pave catalog list --limit 20', 'pave catalog list -o json'),
    )
    .action(async (options: ClientOptions & { portalUrl?: string; limit?: string; cursor?: string }) => {
      const { client, output } = await clientFor(options, io);
      const page = await client.listCatalogEntities({
        ...pageQuery(options, 'apps, teams or users'),
        ...(options.portalUrl === undefined ? {} : { portalUrl: options.portalUrl }),
      });
      output.show(page, (body) =>
        withMoreLine(
          output.table(
            body.items,
            entityColumns,
            emptyPageLine('No entities: you have no role on any app.', options.cursor, 'entities'),
          ),
          body.nextCursor,
          {
            items: 'entities',
            command: `pave catalog list${options.portalUrl === undefined ? '' : ` --portal-url ${options.portalUrl}`}`,
            limit: options.limit,
          },
        ),
      );
    });

  addClientOptions(
    catalog
      .command('export')
      .description(
        'Write the entities as catalog-info.yaml files: DIR/apps/<app>/, DIR/org/ (teams and users) and DIR/catalog-info.yaml (a Location of them all)',
      )
      .requiredOption(
        '--dir <dir>',
        'the directory to write into (created if missing; files in it are replaced)',
      )
      .option('--portal-url <url>', "the portal's URL for entity links (default: the server's URL)"),
  )
    .addHelpText(
      'after',
      examples(
        'pave catalog export --dir ./catalog',
        'pave catalog export --dir ./catalog --portal-url https://pave.example.com',
      ),
    )
    .action(async (options: ClientOptions & { dir: string; portalUrl?: string }) => {
      // An empty one would write (and replace files) in the current directory.
      if (!options.dir.trim()) {
        throw new CliUsageError('--dir: give a directory, e.g. --dir ./catalog (use --dir . for this one)');
      }
      const { client, connection, output } = await clientFor(options, io);
      // Every page: the files hold the whole catalog.
      const entities = await allPages((cursor) =>
        client.listCatalogEntities({
          ...(cursor === undefined ? {} : { cursor }),
          ...(options.portalUrl === undefined ? {} : { portalUrl: options.portalUrl }),
        }),
      );
      const files = catalogFiles(entities);
      const written = [];
      for (const file of files) {
        const path = join(options.dir, ...file.path.split('/'));
        await writeFileIn(path, fileText(file, connection.server));
        written.push({ path, entities: file.entities.length, kinds: kindCounts(file.entities) });
      }
      output.show({ files: written }, (body) =>
        body.files.map((file) => `Wrote ${file.path} (${file.kinds})`).join('\n'),
      );
    });
}

/** Writes `text` to `path`, making its directory; a usage error saying why and what to do when it cannot. */
async function writeFileIn(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const fix = 'give --dir a directory you may write to';
  try {
    makeDirectories(dir);
  } catch (error) {
    throw new CliUsageError(`cannot create ${dir} (--dir): ${whyUnmade(error, dir)}; ${fix}`);
  }
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new CliUsageError(
      `cannot write ${path} (--dir): ${describeFileError(error, path, 'write')}; ${fix}`,
    );
  }
}
