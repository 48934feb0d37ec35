/**
 * Whether this process exports traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and
 * OpenTelemetry is not switched off. A module of its own so a process can ask before loading the SDK (the CLI loads
 * observability/tracing.ts only when this is true).
 */
export function tracingEnabled(source: NodeJS.ProcessEnv = process.env): boolean {
  if (source['OTEL_SDK_DISABLED'] === 'true' || source['OTEL_TRACES_EXPORTER'] === 'none') return false;
  return Boolean(source['OTEL_EXPORTER_OTLP_ENDPOINT'] || source['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}
