import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { redactOptions } from './redact';

// Structured JSON on stdout, one line per event, so log shippers need no parsing rules.
export const logger = pino({
  level: process.env['LOG_LEVEL'] ?? 'info',
  base: { service: 'scheduled-job', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  // With tracing on, a line logged inside a span (an HTTP trigger, an activity) names its trace and span.
  mixin() {
    const span = trace.getActiveSpan()?.spanContext();
    return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
  },
  redact: redactOptions, // secrets never reach the logs (observability/redact.ts)
});

export type Logger = typeof logger;
