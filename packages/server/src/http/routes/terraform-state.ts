import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError, InputError, NotAllowedError } from '@pave/core';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import {
  lockState,
  parseStateResourceId,
  readState,
  unlockState,
  writeState,
  type HeldLock,
  type StateCredentials,
  type StateKey,
} from '../../domain/resources/state.ts';

/** The largest state a run may write (Terraform states of big modules reach a few MB). */
export const STATE_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Where resource states are served: Terraform's `http` backend protocol. */
export const STATE_PREFIX = '/api/v1/terraform/state';

/** What the state routes need. */
export interface StateRouteDeps {
  store: Store;
  box: SecretBox;
  credentials: StateCredentials;
}

/**
 * Terraform's `http` state backend, for the resource drivers that keep state in the control plane:
 * `GET|POST|DELETE|LOCK|UNLOCK /api/v1/terraform/state/{resource}` with `{resource}` = `<app>:<env>:<address>`.
 * These routes take no Pave token: each driver call gets a credential (HTTP basic) for its own resource's state
 * only, good for an hour (see StateCredentials), so a run can neither read another resource's state nor keep
 * access after it. A held lock answers 423 with its holder's lock info, as Terraform expects. Registered on
 * the root instance (LOCK and UNLOCK are added as HTTP methods) in a scope of its own that reads bodies as text.
 */
export async function terraformStateRoutes(app: FastifyInstance, deps: StateRouteDeps): Promise<void> {
  app.addHttpMethod('LOCK', { hasBody: true });
  app.addHttpMethod('UNLOCK', { hasBody: true });
  await app.register(
    async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: STATE_BODY_LIMIT_BYTES },
        (_r, body, done) => done(null, typeof body === 'string' ? body : body.toString('utf8')),
      );
      const options = { schema: { hide: true }, config: { public: true } };
      const keyOf = (request: FastifyRequest): StateKey => {
        const { resource } = request.params as { resource: string };
        const key = parseStateResourceId(resource);
        if (!key) {
          throw new InputError(`"${resource}" is not a resource state`, [
            {
              path: 'path.resource',
              message: 'use <app>:<env>:<address>, as the control plane hands it out',
            },
          ]);
        }
        const refusal = deps.credentials.refusal(resource, request.headers.authorization);
        if (refusal === null) return key;
        if (request.headers.authorization === undefined) {
          throw new AuthenticationError(refusal, [{ path: 'header.authorization', message: refusal }]);
        }
        throw new NotAllowedError(refusal, [{ path: 'header.authorization', message: refusal }]);
      };

      scope.get('/:resource', options, async (request, reply) => {
        const state = await readState(deps.store, deps.box, keyOf(request));
        if (state === null) return reply.code(204).send();
        return reply.code(200).type('application/json').send(state);
      });
      scope.post('/:resource', options, async (request, reply) => {
        const key = keyOf(request);
        const body = requestText(request);
        const written = await writeState(deps.store, deps.box, key, body, lockIdOf(request));
        return 'held' in written ? heldReply(reply, written.held) : reply.code(200).send();
      });
      scope.delete('/:resource', options, async (request, reply) => {
        const written = await writeState(deps.store, deps.box, keyOf(request), null, lockIdOf(request));
        return 'held' in written ? heldReply(reply, written.held) : reply.code(200).send();
      });
      scope.route({
        method: 'LOCK',
        url: '/:resource',
        ...options,
        handler: async (request, reply) => {
          const key = keyOf(request);
          const info = requestText(request);
          const locked = await lockState(deps.store.db, key, lockInfoId(info), info);
          return 'held' in locked ? heldReply(reply, locked.held) : reply.code(200).send();
        },
      });
      scope.route({
        method: 'UNLOCK',
        url: '/:resource',
        ...options,
        handler: async (request, reply) => {
          const key = keyOf(request);
          const unlocked = await unlockState(deps.store.db, key, lockInfoId(requestText(request)));
          return 'held' in unlocked ? heldReply(reply, unlocked.held) : reply.code(200).send();
        },
      });
    },
    { prefix: STATE_PREFIX },
  );
}

function requestText(request: FastifyRequest): string {
  if (typeof request.body !== 'string' || request.body.length === 0) {
    throw new InputError('the request has no body', [
      { path: 'body', message: 'send the state (POST) or the lock info (LOCK, UNLOCK) as JSON' },
    ]);
  }
  return request.body;
}

/** The `ID` query parameter Terraform sends with a write while it holds the lock. */
function lockIdOf(request: FastifyRequest): string | undefined {
  const { ID } = (request.query ?? {}) as { ID?: unknown };
  return typeof ID === 'string' && ID.length > 0 ? ID : undefined;
}

/** The `ID` of a Terraform lock info document. */
function lockInfoId(info: string): string {
  let id: unknown;
  try {
    id = (JSON.parse(info) as { ID?: unknown }).ID;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    throw new InputError('the lock info is not valid', [
      { path: '/ID', message: 'send Terraform lock info: a JSON object with a string "ID"' },
    ]);
  }
  return id;
}

/** 423 Locked with the holder's lock info, which Terraform shows ("Lock Info: ID … Who …"). */
function heldReply(reply: FastifyReply, held: HeldLock): FastifyReply {
  return reply.code(423).type('application/json').send(held.info);
}
