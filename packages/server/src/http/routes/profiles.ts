import {
  ApplyProfilesBody,
  ProfileListQuery,
  ProfileMatch,
  ProfileMatchQuery,
  ProfileParams,
  ProfilePage,
  ProfilesPlan,
  WorkloadProfileRecord,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { environmentRow } from '../../domain/environments.ts';
import {
  applyProfiles,
  deleteProfile,
  explainProfileMatch,
  getProfile,
  listProfilePage,
} from '../../domain/profiles.ts';

/** Workload profiles: patches and extra objects for the manifests of every workload of matching environments. */
export function profileRoutes(api: ApiServer, store: Store): void {
  const tags = ['profiles'];
  api.post(
    '/profiles/apply',
    {
      config: { permission: 'profile.write' },
      schema: {
        tags,
        summary: 'Apply workload profiles declaratively (create or update; dryRun only plans)',
        body: ApplyProfilesBody,
        response: { 200: ProfilesPlan },
      },
    },
    async (request) => applyProfiles(store, request.pave, request.body),
  );
  api.get(
    '/profiles',
    {
      config: { permission: 'profile.read' },
      schema: {
        tags,
        summary: 'List workload profiles, ordered by id, a page at a time (100 unless `limit` says)',
        querystring: ProfileListQuery,
        response: { 200: ProfilePage },
      },
    },
    async (request) => listProfilePage(store.db, request.query),
  );
  api.get(
    '/profiles/match',
    {
      config: { permission: 'profile.read' },
      schema: {
        tags,
        summary: "Which profiles apply to an app's environment, most specific first",
        querystring: ProfileMatchQuery,
        response: { 200: ProfileMatch },
      },
    },
    async (request) => {
      const { app, env } = request.query;
      const environment = await environmentRow(store.db, app, env);
      return explainProfileMatch(store.db, { app, env, envType: environment.type });
    },
  );
  api.get(
    '/profiles/:id',
    {
      config: { permission: 'profile.read' },
      schema: {
        tags,
        summary: 'Get a workload profile',
        params: ProfileParams,
        response: { 200: WorkloadProfileRecord },
      },
    },
    async (request) => getProfile(store.db, request.params.id),
  );
  api.delete(
    '/profiles/:id',
    {
      config: { permission: 'profile.write' },
      schema: {
        tags,
        summary: 'Delete a workload profile',
        params: ProfileParams,
        response: { 204: noContent('The profile is deleted') },
      },
    },
    async (request, reply) => {
      await deleteProfile(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
