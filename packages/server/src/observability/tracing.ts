import { SpanStatusCode, context, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { PAVE_VERSION } from '../version.ts';

/**
 * Pave's tracer. Until startTracing registers the SDK it is @opentelemetry/api's no-op tracer: spans cost a
 * function call and record nothing.
 */
export function paveTracer() {
  return trace.getTracer('pave', PAVE_VERSION);
}

/** The running trace exporter: `shutdown` flushes the spans still buffered and stops it. */
export interface Tracing {
  /** Where spans go, for the start-up log line. */
  endpoint: string;
  shutdown(): Promise<void>;
}

let running: Promise<Tracing | null> | undefined;
/** Whether an exporter is registered: until then a span records nothing, and requests start none. */
let exporting = false;

/** True while startTracing's exporter runs (from when it started until its shutdown). */
export function tracingRunning(): boolean {
  return exporting;
}

/**
 * Starts exporting spans with OTLP over HTTP (JSON) when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and `OTEL_SDK_DISABLED` is not `true`; resolves null, having
 * loaded nothing of the SDK, otherwise. The exporter reads the standard OTEL_EXPORTER_OTLP_* variables
 * (headers, timeout); `OTEL_SERVICE_NAME` names the service (default `pave`). The SDK is process-wide: a
 * second call (a second control plane in one process) gets the first call's exporter.
 */
export function startTracing(env: NodeJS.ProcessEnv, logger: Pick<Logger, 'info'>): Promise<Tracing | null> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return Promise.resolve(null);
  running ??= loadTracing(env, endpoint).then((tracing) => {
    logger.info({ endpoint: tracing.endpoint }, 'exporting traces with OTLP/HTTP');
    return tracing;
  });
  return running;
}

async function loadTracing(env: NodeJS.ProcessEnv, endpoint: string): Promise<Tracing> {
  // Imported only here, so a control plane without an endpoint never loads the SDK (a chunk of its own in
  // the bundled CLI).
  // The SDK's packages are CommonJS: their exports are the import's `default`, both in Node and in the
  // bundled CLI (whose chunks give a CommonJS package nothing else).
  const [sdkNode, sdkTrace, otlpHttp, resources] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const { NodeSDK } = sdkNode.default;
  const { BatchSpanProcessor } = sdkTrace.default;
  const { OTLPTraceExporter } = otlpHttp.default;
  const { resourceFromAttributes } = resources.default;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME || 'pave',
      'service.version': PAVE_VERSION,
    }),
    // No resource detectors: the process detector would export `pave up`'s command line, which may hold a
    // store URL with its password.
    autoDetectResources: false,
    resourceDetectors: [],
    // Pave's spans are its own (the bundled CLI leaves nothing for require-hook instrumentations to patch).
    instrumentations: [],
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 1000 }),
    ],
    // Traces only: metrics are Prometheus's (/metrics), and logs go to pino. Without these the SDK would set
    // up OTLP metric and log exporters from the environment's defaults.
    metricReaders: [],
    logRecordProcessors: [],
  });
  // Registers the tracer provider and an AsyncLocalStorage context manager, so child spans find their parent.
  sdk.start();
  exporting = true;
  return {
    endpoint: redactEndpoint(endpoint),
    async shutdown() {
      exporting = false;
      await sdk.shutdown();
      trace.disable();
      context.disable();
      running = undefined;
    },
  };
}

/** An endpoint for the log: without credentials or a query string. */
function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** Options of {@link inSpan}. */
export interface SpanOptions {
  /** Start a new trace even when called inside another span (work a request only queued). */
  root?: boolean;
}

/**
 * Runs `fn` inside a span named `name` (the active span while it runs, so spans started inside become its
 * children). A rejection marks the span as an error with the error's name only (messages may quote values)
 * and is passed on.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  return paveTracer().startActiveSpan(name, { attributes, root: options.root ?? false }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      throw error;
    } finally {
      span.end();
    }
  });
}
