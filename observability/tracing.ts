import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  NoopSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { logger } from './logger';
import { tracingEnabled } from './tracingEnabled';

/**
 * OpenTelemetry tracing for one process (API, worker or CLI). Spans follow a run from its trigger through the
 * Temporal client interceptor (StartWorkflow) into the workflow (RunWorkflow, StartChildWorkflow), and its
 * activities (StartActivity, RunActivity), all in one trace.
 *
 * Export is on only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (OTLP/HTTP,
 * JSON; the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself). Otherwise no tracer provider is
 * registered: the API's tracer is OpenTelemetry's no-op, nothing is recorded, nothing is sent.
 */
export interface Tracing {
  enabled: boolean;
  resource: Resource;
  /** Where spans end up; the worker hands it to the workflow sandbox's span sink too. */
  spanProcessor: SpanProcessor;
  /** Sends what is buffered; call before the process exits. */
  flush(): Promise<void>;
}

const TRACER_NAME = 'scheduled-job';
let current: Tracing | undefined;

/**
 * Sets up tracing once per process; later calls return the first setup. `defaultServiceName` applies unless
 * OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
 */
export function initTracing(defaultServiceName: string): Tracing {
  if (current) return current;
  const resource = new Resource({ 'service.name': defaultServiceName }).merge(envDetectorSync.detect());
  if (!tracingEnabled()) {
    current = { enabled: false, resource, spanProcessor: new NoopSpanProcessor(), flush: async () => {} };
    return current;
  }
  // Required here: the exporter is a good share of a CLI call's start-up, and most processes never export.
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Registers the provider, W3C trace-context + baggage propagation, and async-local context, so a span opened in an
  // HTTP handler is the parent of the StartWorkflow span that the Temporal client interceptor opens under it.
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  current = {
    enabled: true,
    resource,
    spanProcessor,
    flush: () =>
      provider.forceFlush().catch((err: unknown) => {
        logger.warn({ err }, 'could not export spans');
      }),
  };
  return current;
}

/**
 * Runs `fn` in a span (a no-op span when tracing is off). An error is recorded on the span and rethrown.
 * `parent` continues a caller's trace, e.g. the context extracted from an HTTP request's `traceparent`.
 */
export async function withSpan<T>(
  name: string,
  opts: { attributes?: Attributes; kind?: SpanKind; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const spanOpts = { kind: opts.kind ?? SpanKind.INTERNAL, ...(opts.attributes ? { attributes: opts.attributes } : {}) };
  return tracer.startActiveSpan(name, spanOpts, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The trace context a caller sent in its headers (W3C `traceparent`), to continue its trace. */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

export { SpanKind };
