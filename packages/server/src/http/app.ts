import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyReply,
  type FastifyRequest,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
  type RouteOptions,
} from 'fastify';
import { z } from 'zod';
import fastifySwagger from '@fastify/swagger';
import fastifyRateLimit from '@fastify/rate-limit';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import {
  InputError,
  REQUEST_BODY_LIMIT_BYTES,
  TooManyRequestsError,
  type AccessTarget,
  type Permission,
} from '@pave/core';
import { authorize, environmentAccess, type AccessCheck } from '../domain/access.ts';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { Store } from '../store/index.ts';
import { authenticate, cachedActor } from '../domain/tokens.ts';
import type { Actor, RequestContext } from '../domain/context.ts';
import {
  RouteMethods,
  handleClientError,
  handleError,
  handleFrameworkError,
  notFoundHandler,
  validatorCompiler,
} from './problems.ts';
import { jsonBodies } from './body.ts';
import { bearerToken } from './bearer.ts';
import { securityHeaders } from './headers.ts';
import { redactUrl } from './redact.ts';
import { ResponseSerializers } from './serializers.ts';
import { healthRoutes } from './routes/health.ts';
import { appRoutes } from './routes/apps.ts';
import { envTypeRoutes } from './routes/env-types.ts';
import { environmentRoutes } from './routes/environments.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { identityRoutes } from './routes/identities.ts';
import { auditRoutes } from './routes/audit.ts';
import { eventRoutes } from './routes/events.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { valuesRoutes } from './routes/values.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { PAVE_VERSION } from '../version.ts';
import { resourceRoutes } from './routes/resources.ts';
import { policyRoutes } from './routes/policies.ts';
import { profileRoutes } from './routes/profiles.ts';
import { templateRoutes } from './routes/templates.ts';
import { roleRoutes } from './routes/roles.ts';
import { targetRoutes, type TargetRenderer } from './routes/targets.ts';
import { proxyRoutes } from './proxy.ts';
import { appStatusRoutes } from './routes/app-status.ts';
import { insightsRoutes } from './routes/insights.ts';
import { portalRoutes } from './portal.ts';
import { environmentTeardown, type EnvironmentTargets } from '../domain/deployments/orchestrator.ts';
import type { ResourceDriverRegistry } from '../domain/resources/provision.ts';
import type { RouteTable } from '../domain/resources/routes.ts';
import type { StateCredentials } from '../domain/resources/state.ts';
import { terraformStateRoutes } from './routes/terraform-state.ts';
import { metricsRoute, requestTelemetry } from './metrics.ts';
import type { PaveMetrics } from '../observability/metrics.ts';
import { signInRoutes } from './routes/sso.ts';
import type { OidcSignOn } from '../domain/sso.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set on every /api/v1 route except public ones. */
    pave: RequestContext;
    /** The app and environment (type) the route's permission was checked against. */
    accessTarget: AccessTarget;
  }
  interface FastifyContextConfig {
    /** The route needs no token. */
    public?: boolean;
    /**
     * The permission the route needs (see @pave/core permissions). Checked for every /api/v1 route against
     * the app (`:app`) and environment (`:env`) in its path; a route that declares none is refused at start.
     */
    permission?: Permission;
    /**
     * Further checks that depend on the request's query or body (e.g. the type of an environment being
     * created), each authorised like the route's own permission. They run after the body is parsed and
     * before it is validated, so they read it defensively.
     */
    access?: (request: FastifyRequest) => Promise<AccessCheck[]>;
  }
  interface FastifyInstance {
    /** Which serializer each route's answers got (compiled or zod's): see serializers.ts. */
    responseSerializers: ResponseSerializers;
  }
}

/** Fastify with zod schemas on its routes: what every route module receives. */
export type ApiServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface BuildApiOptions {
  store: Store;
  /** pino options or instance, as Fastify's `logger`; false in most tests. */
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Largest accepted request body, bytes. */
  bodyLimit?: number;
  /** Where workloads run; without one, the deployment routes are not served. */
  runtime?: RuntimeDriver;
  /**
   * Which runtime each environment deploys to (the runtime router): a deployment is refused when it is
   * queued if that runtime cannot run its workloads. Without it, `runtime` is asked.
   */
  targets?: EnvironmentTargets;
  /** Renders environments for `pave render` (the runtime router); without it, the render route is not served. */
  renderer?: TargetRenderer;
  /** Called when a deployment is queued, so the local worker can start it at once. */
  onDeploymentQueued?: () => void;
  /** Encryption of secret values; without it, the values routes are not served. */
  secrets?: { box: SecretBox };
  /** Resource drivers; without them, the resource routes are not served and resources are not deleted. */
  resourceDrivers?: ResourceDriverRegistry;
  /**
   * The credentials of the resource states the control plane keeps (see withStateBackends); with `secrets`,
   * Terraform's http state backend is served under /api/v1/terraform/state.
   */
  stateCredentials?: StateCredentials;
  /** Requests for hosts of Pave's routes go to the workloads (the embedded reverse proxy). */
  routes?: RouteTable;
  /** The built portal to serve at `/` (packages/cli/dist/portal); not served when absent. */
  portalDir?: string;
  /**
   * Answer 204 as soon as a request is authorised, without running its route: how the authorisation matrix
   * test asks every route as every role without changing anything. Never set in a real server.
   */
  authorizeOnly?: boolean;
  /** CIDRs webhooks may reach although they are loopback, private or link-local (`--webhook-allow`). */
  webhookAllow?: readonly string[];
  /**
   * Prometheus metrics: requests are measured into them and `GET /metrics` (permission metrics.read) serves
   * them; not served when absent (requests are still traced).
   */
  metrics?: PaveMetrics | undefined;
  /** Single sign-on with an OIDC provider (`--oidc-issuer`); not offered when absent. */
  sso?: OidcSignOn | undefined;
  /** False refuses `POST /auth/login` (`--disable-password-login`); default true. */
  passwordLogin?: boolean | undefined;
  /**
   * Aborts when the control plane stops: an environment deletion under way gives up (its drivers are asked to)
   * and answers 503, rather than holding the stop until its drivers end (see environmentTeardown).
   */
  stopping?: AbortSignal | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The query of a route that takes no query parameters. */
const NO_QUERY = z.strictObject({});

/** The largest request body Pave accepts: 1 MiB. */
export const BODY_LIMIT_BYTES = REQUEST_BODY_LIMIT_BYTES;

/** The permission a request needs: its route's; an audit listing without an app needs the whole log. */
function permissionOf(request: FastifyRequest): Permission {
  const permission = request.routeOptions.config.permission!;
  const query = request.query as { app?: string } | undefined;
  if (permission === 'audit.read' && !query?.app) return 'audit.read-all';
  return permission;
}

/**
 * The app and environment a request's permission is checked against: the app in its path (or, for routes that
 * take it there, its query), and the environment in its path.
 */
function namedTarget(request: FastifyRequest): { app?: string | undefined; env?: string | undefined } {
  const params = (request.params ?? {}) as { app?: string; env?: string };
  const query = (request.query ?? {}) as { app?: string; env?: string };
  // Resource definitions are platform config: naming an app in the match explainer does not need a role on it.
  const permission = request.routeOptions.config.permission;
  const fromQuery = permission !== 'definition.read' && permission !== 'target.read';
  const app = params.app ?? (fromQuery && typeof query.app === 'string' ? query.app : undefined);
  const env = params.env ?? (params.app ? undefined : typeof query.env === 'string' ? query.env : undefined);
  return { app, env };
}

/** Whether a route changes something and declares no body: it refuses one (refuseBody). */
function takesNoBody(route: RouteOptions): boolean {
  return !route.schema?.body && takesWrites(route);
}

/** Whether a route answers a method that writes (and may carry a body: a DELETE may bring `{}`). */
function takesWrites(route: RouteOptions): boolean {
  return [route.method].flat().some((method) => WRITE_METHODS.has(method));
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses a body sent to a route that takes none (a deletion, `…/cancel`): nothing would read it, and a client
 * that sent `{"force": true}` must not believe it did something. An empty object passes (some clients always
 * send one).
 */
async function refuseBody(request: FastifyRequest): Promise<void> {
  const { body } = request;
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw new InputError(`${request.method} ${request.url.split('?')[0]} takes no request body`, [
    { path: '/', message: 'send none: nothing would read it' },
  ]);
}

/** The answer to a URL with a NUL character (`%00`) in its path or query. */
function nulInUrl(): InputError {
  return new InputError('the URL holds a NUL character (%00)', [
    {
      path: 'url',
      message: 'holds a NUL character (%00), which no name or value in Pave may hold; remove it',
    },
  ]);
}

/**
 * Authenticates a request and checks its route's permission against the app and the type of the environment it
 * names, setting `request.pave` and `request.accessTarget`. Returns undefined when that is done, which it is
 * without waiting for anything when the token's actor is cached and the request names no environment (most
 * requests of a busy client); otherwise a promise of it. Throws (or rejects with) AuthenticationError,
 * NotAllowedError or NotFoundError.
 */
function authorizeRequest(store: Store, request: FastifyRequest): Promise<void> | undefined {
  const token = bearerToken(
    request,
    'send "Authorization: Bearer pave_…"; the CLI reads it from --token, PAVE_TOKEN or `pave login`',
  );
  const actor = cachedActor(token);
  const { app, env } = namedTarget(request);
  const check = (found: Actor, target: AccessTarget) => {
    request.pave = { actor: found, requestId: String(request.id) };
    request.accessTarget = target;
    authorize(found, permissionOf(request), target);
  };
  if (actor && !(app && env)) {
    check(actor, app ? { app } : {});
    return undefined;
  }
  return (async () => {
    const found = actor ?? (await authenticate(store.db, token));
    const access = app && env ? await environmentAccess(store.db, app, env) : undefined;
    check(
      found,
      !app ? {} : access ? { app, envType: access.envType, restricted: access.restricted } : { app },
    );
  })();
}

/**
 * The OpenAPI document with the request bodies a route may go without (a zod `.nullish()` body: a rollback's,
 * an approval's) marked `required: false` and shown as the object they are: @fastify/swagger marks every body
 * required, and zod's null as a second form.
 */
function withOptionalBodies<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  for (const operation of Object.values(paths).flatMap((methods) => Object.values(methods))) {
    const body = (operation as { requestBody?: { required?: boolean; content?: Record<string, unknown> } })
      .requestBody;
    const json = body?.content?.['application/json'] as { schema?: { anyOf?: unknown[] } } | undefined;
    const forms = json?.schema?.anyOf;
    if (!body || !json || !forms?.some((form) => (form as { type?: unknown }).type === 'null')) continue;
    const rest = forms.filter((form) => (form as { type?: unknown }).type !== 'null');
    body.required = false;
    json.schema = rest.length === 1 ? (rest[0] as { anyOf?: unknown[] }) : { anyOf: rest };
  }
  return document;
}

/**
 * Builds the HTTP API (not yet listening): health checks, `/api/v1` routes with token authentication,
 * the OpenAPI document generated from the routes' zod schemas, problem+json errors and request ids.
 */
export async function buildApi(options: BuildApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    bodyLimit: options.bodyLimit ?? BODY_LIMIT_BYTES,
    // Honour a caller's request id when it is safe to log; otherwise make one.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // One line per request, written when it completes (see the onResponse hook below).
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors before routing (a too-long path parameter, a bad URL, malformed HTTP) are problem+json too.
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  });
  app.setValidatorCompiler(validatorCompiler);
  const serializers = new ResponseSerializers();
  app.setSerializerCompiler(serializers.compile);
  app.decorate('responseSerializers', serializers);
  app.setErrorHandler(handleError);
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', (route) => routeMethods.add(route.method, route.url));
  app.setNotFoundHandler(notFoundHandler(routeMethods));
  jsonBodies(app);
  securityHeaders(app);
  // The hooks every request runs take a callback rather than returning a promise: on the API's hottest path
  // each promise and the turn of the microtask queue it waits for are measurable (docs/benchmarks.md).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  requestTelemetry(app, options.metrics);
  app.addHook('onResponse', (request, reply, done) => {
    // Health probes would drown the log.
    if (request.url !== '/healthz' && request.url !== '/readyz') {
      request.log.info(
        {
          method: request.method,
          url: redactUrl(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          user: request.pave?.actor.username,
        },
        'request',
      );
    }
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pave API',
        version: PAVE_VERSION,
        description:
          'The REST API of Pave, an Internal Developer Platform. Errors are RFC 9457 problem+json.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A pave_… token' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => withOptionalBodies(jsonSchemaTransformObject(documentObject)),
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  healthRoutes(api, options.store);
  if (options.metrics) metricsRoute(app, options.store, options.metrics);
  if (options.routes) await proxyRoutes(app, options.routes);
  await portalRoutes(app, options.portalDir);
  if (options.secrets && options.stateCredentials) {
    await terraformStateRoutes(app, {
      store: options.store,
      box: options.secrets.box,
      credentials: options.stateCredentials,
    });
  }
  const resources =
    options.secrets && options.resourceDrivers
      ? { store: options.store, box: options.secrets.box, drivers: options.resourceDrivers }
      : undefined;
  const teardown = environmentTeardown(options.runtime, resources, app.log, options.stopping);

  // Only routes that ask for it (config.rateLimit) are limited, per client address.
  await app.register(fastifyRateLimit, {
    global: false,
    // The route's window, not the plugin's `after` (the time until this address may ask again, which reads
    // "at most 60 in 59 seconds" once a second of the window has passed).
    errorResponseBuilder: (request, context) => {
      const { timeWindow = 60_000 } =
        (request.routeOptions.config as { rateLimit?: { timeWindow?: number } }).rateLimit ?? {};
      const window = timeWindow === 60_000 ? '1 minute' : `${Math.round(timeWindow / 1000)} s`;
      const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
      return new TooManyRequestsError(
        `too many requests from this address: at most ${context.max} in ${window}`,
        retryAfter,
        [{ path: '/', message: `try again in ${retryAfter} s` }],
      );
    },
  });
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', (request, _reply, done) => {
        // A NUL in a path or query parameter: no name or value may hold one, and PostgreSQL cannot take it.
        if (request.url.includes('%00')) return done(nulInUrl());
        if (request.routeOptions.config.public) return done();
        let pending: Promise<void> | undefined;
        try {
          pending = authorizeRequest(options.store, request);
        } catch (error) {
          return done(error as Error);
        }
        if (!pending) return done();
        pending.then(() => done(), done);
      });
      // The check above ran on the headers; a body may follow minutes later, and what the check read may
      // change meanwhile (the environment made again of a restricted type, the token revoked). A request that
      // may carry one is checked again once it is in, before anything reads it.
      const checkedAgain = async (request: FastifyRequest) => {
        await authorizeRequest(options.store, request);
      };
      const furtherChecks = async (request: FastifyRequest, reply: FastifyReply) => {
        const further = request.routeOptions.config.access;
        for (const check of further ? await further(request) : []) {
          authorize(request.pave.actor, check.permission, check.target);
        }
        if (options.authorizeOnly) return reply.code(204).header('x-pave-authorized', 'yes').send();
      };
      v1.addHook('onRoute', (route) => {
        // Every route says which permission it needs; a route that forgets is a bug found at start-up.
        if (!route.config?.public && !route.config?.permission) {
          throw new Error(
            `route ${String(route.method)} ${route.url} declares no permission (config.permission)`,
          );
        }
        // A route that declares no query parameters refuses any, as the others refuse unknown ones: a client
        // that sends `?plan=true` or `?dryRun=true` where the body says so would otherwise get the real thing.
        if (!route.schema?.querystring) route.schema = { ...route.schema, querystring: NO_QUERY };
        // Checks that depend on the body run once it is parsed (before the route's own preValidation hooks);
        // only routes that have them pay for the hook.
        const own = route.preValidation ? [route.preValidation].flat() : [];
        const checks = [
          ...(!route.config?.public && takesWrites(route) ? [checkedAgain] : []),
          ...(takesNoBody(route) ? [refuseBody] : []),
          ...(route.config?.public || (!route.config?.access && !options.authorizeOnly)
            ? []
            : [furtherChecks]),
        ];
        if (checks.length > 0) route.preValidation = [...checks, ...own];
      });
      const scoped = v1.withTypeProvider<ZodTypeProvider>();
      scoped.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
        app.swagger(),
      );
      appRoutes(scoped, options.store, teardown);
      envTypeRoutes(scoped, options.store);
      environmentRoutes(scoped, options.store, teardown, options.onDeploymentQueued);
      if (resources) resourceRoutes(scoped, resources);
      tokenRoutes(scoped, options.store);
      signInRoutes(scoped, { sso: options.sso, passwordLogin: options.passwordLogin ?? true });
      identityRoutes(scoped, options.store);
      roleRoutes(scoped, options.store);
      targetRoutes(
        scoped,
        options.store,
        options.secrets && options.renderer
          ? { renderer: options.renderer, box: options.secrets.box }
          : undefined,
      );
      auditRoutes(scoped, options.store);
      policyRoutes(scoped, options.store);
      profileRoutes(scoped, options.store);
      templateRoutes(scoped, { store: options.store, box: options.secrets?.box });
      eventRoutes(scoped, options.store);
      catalogRoutes(scoped, options.store);
      approvalRoutes(scoped, { store: options.store, onQueued: options.onDeploymentQueued });
      insightsRoutes(scoped, { store: options.store });
      if (options.secrets) {
        webhookRoutes(scoped, {
          store: options.store,
          box: options.secrets.box,
          allow: options.webhookAllow,
        });
      }
      artifactRoutes(scoped, {
        store: options.store,
        onQueued: options.onDeploymentQueued,
        resources,
        runtime: options.runtime,
        targets: options.targets,
      });
      if (options.secrets) valuesRoutes(scoped, { store: options.store, ...options.secrets });
      if (options.runtime) {
        deploymentRoutes(scoped, {
          store: options.store,
          runtime: options.runtime,
          onQueued: options.onDeploymentQueued ?? (() => undefined),
          resources,
          targets: options.targets,
          box: options.secrets?.box,
        });
        appStatusRoutes(scoped, {
          store: options.store,
          runtime: options.runtime,
          box: options.secrets?.box,
        });
      }
    },
    { prefix: '/api/v1' },
  );
  return app;
}
