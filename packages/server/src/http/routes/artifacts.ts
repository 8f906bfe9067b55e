import {
  AppParams,
  Artifact,
  ArtifactListQuery,
  ArtifactPage,
  ArtifactParams,
  CreateRuleInput,
  PushArtifactInput,
  PushedArtifact,
  Rule,
  RuleListQuery,
  RulePage,
  RuleParams,
} from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { environmentAccess, environmentReach, type AccessCheck } from '../../domain/access.ts';
import { getApp } from '../../domain/apps.ts';
import { getArtifact, listArtifacts, pushArtifact } from '../../domain/artifacts.ts';
import { createRule, deleteRule, listRules, ruleDeletionAccess, triggerRules } from '../../domain/rules.ts';
import type { EnvironmentTargets } from '../../domain/deployments/orchestrator.ts';
import type { ResourceDeps } from '../../domain/resources/provision.ts';

/** What the artifact and rule routes need: the store, and what queuing a deployment needs (rules deploy). */
export interface ArtifactRouteDeps {
  store: Store;
  /** Tells the local worker that a rule queued a deployment, so it starts at once. */
  onQueued?: (() => void) | undefined;
  /** The resource drivers and secret box, for planning the deployments rules queue. */
  resources?: Pick<ResourceDeps, 'box' | 'drivers'> | undefined;
  /** The runtime, asked whether it can run what a rule deploys; without one, it is not asked. */
  runtime?: RuntimeDriver | undefined;
  /** Which runtime each environment deploys to; without it, `runtime` for all. */
  targets?: EnvironmentTargets | undefined;
}

/**
 * Build artifacts (`POST /apps/{app}/artifacts`, pushed by CI) and automation rules that deploy them. A push
 * runs the app's matching rules in the same request: the deployments they queue are in its answer.
 */
export function artifactRoutes(api: ApiServer, deps: ArtifactRouteDeps): void {
  const { store } = deps;
  const tags = ['artifacts'];
  api.post(
    '/apps/:app/artifacts',
    {
      config: { permission: 'artifact.push' },
      schema: {
        tags,
        summary: "Register a build artifact (CI): its Score files, image and commit; runs the app's rules",
        description:
          'The Score files are validated as `pave deploy` validates them; problems name file:line:column ' +
          'and the Score path. `image` replaces the image `.` of the containers of `workload` (needed ' +
          'when there are several workloads). Every rule of the app whose branch glob matches `branch` ' +
          '(and whose workload, if any, the artifact has) then queues a deployment of the artifact, or is ' +
          'refused when its creator may no longer deploy there, or the caller may not (on a restricted ' +
          'environment type such as production: the deployer role); `triggered` says which.',
        params: AppParams,
        body: PushArtifactInput,
        response: { 201: PushedArtifact },
      },
    },
    async (request, reply) => {
      const artifact = await pushArtifact(store, request.pave, request.params.app, request.body);
      const triggered = await triggerRules(store, request.pave, artifact, {
        resources: deps.resources,
        logger: request.log,
        ...(deps.runtime || deps.targets
          ? {
              runtimeOf: async (target) =>
                deps.targets ? (await deps.targets.plan(target)).runtime : deps.runtime!,
            }
          : {}),
      });
      if (triggered.some((outcome) => outcome.deploymentId !== null)) deps.onQueued?.();
      return reply.code(201).send({ ...artifact, triggered });
    },
  );
  api.get(
    '/apps/:app/artifacts',
    {
      config: { permission: 'artifact.read' },
      schema: {
        tags,
        summary: "List an app's build artifacts, newest first, a page at a time",
        params: AppParams,
        querystring: ArtifactListQuery,
        response: { 200: ArtifactPage },
      },
    },
    async (request) => {
      await getApp(store.db, request.params.app);
      return listArtifacts(store.db, request.params.app, request.query);
    },
  );
  api.get(
    '/apps/:app/artifacts/:id',
    {
      config: { permission: 'artifact.read' },
      schema: { tags, summary: 'Get a build artifact', params: ArtifactParams, response: { 200: Artifact } },
    },
    async (request) => getArtifact(store.db, request.params.app, request.params.id),
  );
  api.post(
    '/apps/:app/rules',
    {
      config: {
        permission: 'rule.write',
        // A rule deploys into its environment: whoever makes it must be allowed to deploy there themselves.
        access: async (request): Promise<AccessCheck[]> => {
          const app = (request.params as { app: string }).app;
          const env = (request.body as { env?: unknown } | undefined)?.env;
          if (typeof env !== 'string') return [];
          const access = await environmentAccess(store.db, app, env);
          return access ? environmentReach('rule.write', { app, ...access }) : [];
        },
      },
      schema: {
        tags,
        summary: 'Create an automation rule: deploy artifacts of matching branches to an environment',
        description:
          'Needs deployment.create on the environment too (on a restricted type such as production: the ' +
          "deployer role). The rule deploys with its creator's roles, checked again at every push.",
        params: AppParams,
        body: CreateRuleInput,
        response: { 201: Rule },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createRule(store, request.pave, request.params.app, request.body)),
  );
  api.get(
    '/apps/:app/rules',
    {
      config: { permission: 'artifact.read' },
      schema: {
        tags,
        summary: "List an app's automation rules, oldest first, a page at a time",
        description: 'A page holds 100 rules unless `limit` says otherwise (at most 500).',
        params: AppParams,
        querystring: RuleListQuery,
        response: { 200: RulePage },
      },
    },
    async (request) => {
      await getApp(store.db, request.params.app);
      return listRules(store.db, request.params.app, request.query);
    },
  );
  api.delete(
    '/apps/:app/rules/:id',
    {
      config: {
        permission: 'rule.write',
        // Deleting a rule changes what reaches its environment: it needs what creating the rule needs.
        access: async (request) => {
          const { app, id } = request.params as { app: string; id?: unknown };
          return ruleDeletionAccess(store.db, request.pave.actor, app, String(id));
        },
      },
      schema: {
        tags,
        summary: 'Delete an automation rule',
        description:
          "Needs deployment.create on the rule's environment too, as creating it does (on a restricted type " +
          'such as production: the deployer role).',
        params: RuleParams,
        response: { 204: noContent('The rule is deleted') },
      },
    },
    async (request, reply) => {
      await deleteRule(store, request.pave, request.params.app, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
