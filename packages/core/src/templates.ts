import { z } from 'zod';
import { dnsLabel, printableText } from './ids.ts';
import { labelPageQuery, pageOf } from './paging.ts';
import { App, Environment } from './api.ts';
import { PolicyDuration } from './policies.ts';

/*
 * Golden paths: templates that generate a project (files rendered with Nunjucks from answers to the
 * template's parameters) and set it up in Pave (an app, its environments and values, a first deployment).
 * `pave init` and the portal are their clients; the server validates, renders and instantiates them.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** The name of a template parameter: what `{{ name }}` refers to in its files. */
export const TemplateParameterName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/u, {
  message:
    'a parameter name is a letter or _ followed by up to 62 letters, digits or _ (usable as {{ name }})',
});

/**
 * The parameters of a template: a JSON Schema object (`type: object`, its `properties` with their types,
 * defaults, enums, patterns, and `required`). The server compiles it with Ajv when the template is applied.
 */
export const TemplateParameters = z
  .looseObject({
    type: z.literal('object').default('object'),
    properties: z.record(TemplateParameterName, z.record(z.string(), z.unknown())).default({}),
    required: z.array(TemplateParameterName).max(100).optional(),
  })
  .describe('A JSON Schema (draft 2020-12 keywords Ajv knows) of the answers: type object with properties.');
export type TemplateParameters = z.infer<typeof TemplateParameters>;

const relativePath = z
  .string()
  .min(1)
  .max(500)
  .refine((path) => !path.startsWith('/') && !path.split('/').some((part) => part === '..' || part === ''), {
    message: 'a relative path inside the project: no leading "/", no ".." and no empty segment',
  });

/**
 * One file of a template. `path` and (UTF-8) `content` are Nunjucks templates; `binaryContent` (base64) is
 * copied as it is. Exactly one of the two.
 */
export const TemplateFile = z
  .strictObject({
    path: relativePath.describe('Where the file goes, relative to the project; may use {{ parameters }}.'),
    content: z.string().max(1_000_000).optional().describe('Text rendered with Nunjucks.'),
    binaryContent: z.base64().max(1_400_000).optional().describe('Bytes (base64) copied as they are.'),
    executable: z.boolean().optional().describe('Mode 0755 instead of 0644.'),
  })
  .refine((file) => (file.content === undefined) !== (file.binaryContent === undefined), {
    message: 'give exactly one of content (text, rendered) and binaryContent (base64, copied)',
  });
export type TemplateFile = z.infer<typeof TemplateFile>;

/** An environment the template creates for the new app. */
export const TemplateEnvironment = z.strictObject({
  id: dnsLabel,
  type: dnsLabel.describe('Its environment type, e.g. development.'),
  from: dnsLabel
    .optional()
    .describe('Clone it from this environment of the template once that one is deployed (`pave init` does).'),
  ttl: PolicyDuration.optional().describe('Delete it after this long, e.g. 7d.'),
});
export type TemplateEnvironment = z.infer<typeof TemplateEnvironment>;

/**
 * An app-level value the template sets: `secret: true` values are asked for at instantiation (never kept in
 * the template), the others have a `value` rendered with Nunjucks.
 */
export const TemplateValue = z
  .strictObject({
    key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/u, { message: 'an environment variable name' }),
    secret: z.boolean().optional(),
    value: z.string().max(10_000).optional(),
    description: printableText().max(500).optional().describe('What to enter, shown when it is asked for.'),
  })
  .refine((value) => (value.secret === true) !== (value.value !== undefined), {
    message: 'a value is either `secret: true` (asked for) or has a `value` (rendered), not both',
  });
export type TemplateValue = z.infer<typeof TemplateValue>;

/** What instantiating a template sets up in Pave, besides the files. */
export const TemplateSetup = z.strictObject({
  app: z
    .string()
    .min(1)
    .max(200)
    .default('{{ name }}')
    .describe('The new app id, a Nunjucks expression; default `{{ name }}`.'),
  environments: z.array(TemplateEnvironment).max(20).default([]),
  values: z.array(TemplateValue).max(100).default([]),
  prepare: z
    .array(z.string().min(1).max(1000))
    .max(20)
    .default([])
    .describe(
      'Shell commands `pave init` runs in the generated directory before deploying, e.g. `npm install`.',
    ),
  score: z
    .array(relativePath)
    .max(20)
    .optional()
    .describe('The Score files to deploy; default: every generated score.yaml and *.score.yaml.'),
  deploy: dnsLabel.nullable().default(null).describe('The environment `pave init` deploys at the end.'),
});
export type TemplateSetup = z.infer<typeof TemplateSetup>;

const templateShape = {
  id: dnsLabel,
  title: printableText().min(1).max(200),
  description: printableText({ multiline: true }).max(4000).optional(),
  tags: z.array(dnsLabel).max(20).default([]),
  parameters: TemplateParameters.default({ type: 'object', properties: {} }),
  files: z.array(TemplateFile).max(1000),
  setup: TemplateSetup.default({
    app: '{{ name }}',
    environments: [],
    values: [],
    prepare: [],
    deploy: null,
  }),
};

/** A template as written and applied: `template.yaml` with its files inline. */
export const Template = z.strictObject(templateShape).meta({ id: 'Template' });
export type Template = z.infer<typeof Template>;
/** A template as written, before defaults are filled in. */
export type TemplateInput = z.input<typeof Template>;

/**
 * `template.yaml` of a template directory: a template whose `files` may be left out, since the directory's
 * `files/` holds them (files listed inline come before those).
 */
export const TemplateDirectorySpec = z.strictObject({
  ...templateShape,
  files: templateShape.files.default([]),
});

/** A stored version of a template. */
export const TemplateRecord = z
  .strictObject({
    ...templateShape,
    version: z.number().int().positive(),
    createdAt: timestamp,
    createdBy: z.string(),
  })
  .meta({ id: 'TemplateRecord' });
export type TemplateRecord = z.infer<typeof TemplateRecord>;

/** A template in a listing: its latest version, without files. */
export const TemplateSummary = z
  .strictObject({
    id: dnsLabel,
    title: z.string(),
    description: z.string().optional(),
    tags: z.array(z.string()),
    version: z.number().int().positive().describe('The latest version.'),
    parameters: TemplateParameters,
    createdAt: timestamp.describe('When the latest version was applied.'),
    createdBy: z.string(),
  })
  .meta({ id: 'TemplateSummary' });
export type TemplateSummary = z.infer<typeof TemplateSummary>;

/** What applying a template did: a new template, a new version, or nothing (same content). */
export const TemplateApplied = z.strictObject({
  id: dnsLabel,
  version: z.number().int().positive(),
  action: z.enum(['create', 'update', 'unchanged']),
  applied: z.boolean().describe('false for a dry run: only validated.'),
});
export type TemplateApplied = z.infer<typeof TemplateApplied>;

export const TemplateParams = z.object({ id: dnsLabel });

export const TemplateListQuery = labelPageQuery('templates', 100);
export type TemplateListQuery = z.infer<typeof TemplateListQuery>;
/** A page of templates at their latest versions, ordered by id. */
export const TemplatePage = pageOf(TemplateSummary);
export type TemplatePage = z.infer<typeof TemplatePage>;
export const TemplateVersionQuery = z.strictObject({
  version: z.coerce
    .number()
    .int()
    .positive()
    // An integer column: at most 2^31 - 1.
    .max(2_147_483_647, {
      message: 'must be a version of the template; `pave templates get ID` shows the latest',
    })
    .optional()
    .describe('A version; default the latest.'),
});
export const ApplyTemplateQuery = z.strictObject({
  dryRun: z.enum(['true', 'false']).optional().describe('true: validate only, store nothing.'),
});
export const InstantiateTemplateQuery = TemplateVersionQuery.extend({
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'true: run every check of the instantiation, create nothing; answers 200 with what it would create.',
    ),
});

/** Answers to a template's parameters (validated against them, defaults filled in). */
export const TemplateAnswers = z.record(TemplateParameterName, z.unknown());
export type TemplateAnswers = z.infer<typeof TemplateAnswers>;

export const RenderTemplateBody = z.strictObject({ answers: TemplateAnswers.default({}) });
export type RenderTemplateBody = z.input<typeof RenderTemplateBody>;

export const InstantiateTemplateBody = z.strictObject({
  answers: TemplateAnswers.default({}),
  secrets: z
    .record(z.string(), z.string().max(10_000))
    .default({})
    .describe('The values of the template’s `secret: true` values, by key.'),
});
export type InstantiateTemplateBody = z.input<typeof InstantiateTemplateBody>;

/** A generated file: text, or bytes as base64. */
export const RenderedFile = z.strictObject({
  path: z.string(),
  content: z.string().optional(),
  binaryContent: z.string().optional(),
  executable: z.boolean().optional(),
});
export type RenderedFile = z.infer<typeof RenderedFile>;

/** The setup of a rendered template: its expressions evaluated. Secret values carry no value. */
export const RenderedSetup = z.strictObject({
  app: z.string(),
  environments: z.array(TemplateEnvironment),
  values: z.array(
    z.strictObject({
      key: z.string(),
      secret: z.boolean(),
      value: z.string().optional(),
      description: z.string().optional(),
    }),
  ),
  prepare: z.array(z.string()),
  score: z.array(z.string()),
  deploy: z.string().nullable(),
});
export type RenderedSetup = z.infer<typeof RenderedSetup>;

/** What rendering a template gives: the answers with defaults, the files and the setup. Nothing is created. */
export const RenderedTemplate = z
  .strictObject({
    id: dnsLabel,
    version: z.number().int().positive(),
    answers: TemplateAnswers,
    files: z.array(RenderedFile),
    setup: RenderedSetup,
  })
  .meta({ id: 'RenderedTemplate' });
export type RenderedTemplate = z.infer<typeof RenderedTemplate>;

/**
 * What instantiating a template would create (a dry run, every check passed): the app id (the caller would own
 * it), the environments created at once and those cloned later, the keys of the values, the generated files.
 */
export const TemplateInstancePlan = z
  .strictObject({
    template: z.strictObject({ id: dnsLabel, version: z.number().int().positive() }),
    app: z.string().describe('The id of the app it would create.'),
    environments: z.array(TemplateEnvironment).describe('The environments it would create with the app.'),
    pendingEnvironments: z
      .array(TemplateEnvironment)
      .describe('The environments to clone `from` another once that one is deployed.'),
    values: z.array(z.strictObject({ key: z.string(), secret: z.boolean() })),
    setup: RenderedSetup,
    files: z.array(z.string()).describe('The paths of the files it would generate.'),
  })
  .meta({ id: 'TemplateInstancePlan' });
export type TemplateInstancePlan = z.infer<typeof TemplateInstancePlan>;

/**
 * What instantiating a template created: the app (the caller owns it), its environments (those with `from`
 * are left for the client to clone once their source is deployed), the keys of the values set, and the
 * generated files as a gzipped tarball (base64) for clients that want them in one piece.
 */
export const TemplateInstance = z
  .strictObject({
    template: z.strictObject({ id: dnsLabel, version: z.number().int().positive() }),
    app: App,
    environments: z.array(Environment),
    pendingEnvironments: z.array(TemplateEnvironment),
    values: z.array(z.strictObject({ key: z.string(), secret: z.boolean() })),
    setup: RenderedSetup,
    files: z.array(z.string()).describe('The paths of the generated files, in the tarball.'),
    archive: z.base64().describe('The generated files as a .tar.gz, base64.'),
  })
  .meta({ id: 'TemplateInstance' });
export type TemplateInstance = z.infer<typeof TemplateInstance>;
