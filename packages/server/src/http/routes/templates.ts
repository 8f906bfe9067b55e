import {
  ApplyTemplateQuery,
  InstantiateTemplateBody,
  InstantiateTemplateQuery,
  RenderTemplateBody,
  RenderedTemplate,
  Template,
  TemplateApplied,
  TemplateInstance,
  TemplateInstancePlan,
  TemplateListQuery,
  TemplatePage,
  TemplateParams,
  TemplateRecord,
  TemplateVersionQuery,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import {
  applyTemplate,
  deleteTemplate,
  getTemplate,
  instantiateTemplate,
  listTemplates,
  renderTemplate,
} from '../../domain/templates.ts';

/**
 * Templates (golden paths): apply (platform users and org admins), read and render (everyone signed in), and
 * instantiate into a new app (whoever may create apps; they own it), or check that they may (a dry run). `box`
 * encrypts the values a template sets.
 */
export function templateRoutes(api: ApiServer, deps: { store: Store; box?: SecretBox | undefined }): void {
  const { store, box } = deps;
  const tags = ['templates'];
  api.post(
    '/templates',
    {
      config: { permission: 'template.write' },
      schema: {
        tags,
        summary: 'Apply a template: a new version when its content changed, nothing when it did not',
        body: Template,
        querystring: ApplyTemplateQuery,
        response: { 200: TemplateApplied },
      },
    },
    async (request) =>
      applyTemplate(store, request.pave, request.body, { dryRun: request.query.dryRun === 'true' }),
  );
  api.put(
    '/templates/:id',
    {
      config: { permission: 'template.write' },
      schema: {
        tags,
        summary: 'Apply a template by id (as POST /templates)',
        params: TemplateParams,
        body: Template,
        querystring: ApplyTemplateQuery,
        response: { 200: TemplateApplied },
      },
    },
    async (request) =>
      applyTemplate(store, request.pave, request.body, {
        dryRun: request.query.dryRun === 'true',
        pathId: request.params.id,
      }),
  );
  api.get(
    '/templates',
    {
      config: { permission: 'template.read' },
      schema: {
        tags,
        summary:
          'List templates at their latest versions, ordered by id, a page at a time (100 unless `limit` says)',
        querystring: TemplateListQuery,
        response: { 200: TemplatePage },
      },
    },
    async (request) => listTemplates(store.db, request.query),
  );
  api.get(
    '/templates/:id',
    {
      config: { permission: 'template.read' },
      schema: {
        tags,
        summary: 'Get a template (?version=N; default the latest)',
        params: TemplateParams,
        querystring: TemplateVersionQuery,
        response: { 200: TemplateRecord },
      },
    },
    async (request) => getTemplate(store.db, request.params.id, request.query.version),
  );
  api.delete(
    '/templates/:id',
    {
      config: { permission: 'template.write' },
      schema: {
        tags,
        summary: 'Delete a template with every version',
        params: TemplateParams,
        response: { 204: noContent('The template is deleted') },
      },
    },
    async (request, reply) => {
      await deleteTemplate(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );
  api.post(
    '/templates/:id/render',
    {
      config: { permission: 'template.read' },
      schema: {
        tags,
        summary: 'Check answers and render the files and setup; creates nothing',
        params: TemplateParams,
        querystring: TemplateVersionQuery,
        body: RenderTemplateBody,
        response: { 200: RenderedTemplate },
      },
    },
    async (request) => renderTemplate(store.db, request.params.id, request.query.version, request.body),
  );
  api.post(
    '/templates/:id/instantiate',
    {
      config: { permission: 'app.create' },
      schema: {
        tags,
        summary:
          'Create the app (the caller owns it), environments and values of a template; answers with them and ' +
          'the files as a base64 .tar.gz. With dryRun=true: every check, nothing created; 200 with what it ' +
          'would create',
        params: TemplateParams,
        querystring: InstantiateTemplateQuery,
        body: InstantiateTemplateBody,
        response: { 200: TemplateInstancePlan, 201: TemplateInstance },
      },
    },
    async (request, reply) => {
      const dryRun = request.query.dryRun === 'true';
      const answer = await instantiateTemplate(
        store,
        box,
        request.pave,
        request.params.id,
        request.query.version,
        request.body,
        { dryRun },
      );
      return reply.code(dryRun ? 200 : 201).send(answer);
    },
  );
}
