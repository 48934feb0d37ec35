import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Env } from '../config/env';
import { tracingEnabled } from '../observability/tracingEnabled';

/** TLS and API-key settings shared by the client connection and the worker's native connection. */
export function temporalConnectionOptions(e: Env): NativeConnectionOptions {
  const mtls =
    e.TEMPORAL_TLS_CERT_PATH && e.TEMPORAL_TLS_KEY_PATH
      ? { clientCertPair: { crt: readFileSync(e.TEMPORAL_TLS_CERT_PATH), key: readFileSync(e.TEMPORAL_TLS_KEY_PATH) } }
      : undefined;
  const tls = e.TEMPORAL_TLS === 'true' || mtls !== undefined || e.TEMPORAL_API_KEY !== undefined;
  return {
    address: e.TEMPORAL_ADDRESS,
    ...(tls ? { tls: mtls ?? true } : {}),
    ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
  };
}

export async function connectClient(e: Env): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(e));
  // Opens a StartWorkflow/SignalWorkflow/... span under the caller's and sends its context to the workflow in the
  // Temporal headers. With tracing off it would do nothing, so it is neither loaded (a CLI call's start-up) nor added.
  const workflow = tracingEnabled()
    ? [
        new (require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry'))
          .OpenTelemetryWorkflowClientInterceptor(),
      ]
    : [];
  return new Client({ connection, namespace: e.TEMPORAL_NAMESPACE, interceptors: { workflow } });
}
