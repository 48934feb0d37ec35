import { buildApi } from './http/server';
import { apiRoutes } from '../app/apiRoutes';
import { consoleExtensions } from '../app/consoleExtensions';
import { env, requireApiToken } from '../config/env';
import { logger } from '../observability/logger';
import type { ApiApp } from './http/app';
import { openConsumers } from './openConsumers';
import { openRuntime, type Runtime } from './runtime';

/** The API `scheduled-job api` serves: the job routes, the features' routes (app/apiRoutes.ts) and the console. */
export function serviceApi(rt: Runtime, token: string): ApiApp {
  // Its Kafka client opens on the first status and closes with the app.
  const consumers = openConsumers(rt, 'scheduled-job.api');
  const app = buildApi({
    client: rt.client,
    token,
    probes: rt.probes,
    routes: apiRoutes(rt.ds),
    consumers: consumers.client,
    console: {
      readOnly: rt.env.CONSOLE_READ_ONLY === 'true',
      temporalUiUrl: rt.env.TEMPORAL_UI_URL,
      namespace: rt.env.TEMPORAL_NAMESPACE,
      extensions: consoleExtensions(rt.ds),
    },
  });
  app.addHook('onClose', () => consumers.close());
  return app;
}

/** `scheduled-job api`: the HTTP trigger and status API. */
export async function runApi(): Promise<void> {
  const token = requireApiToken(env()); // before anything opens: no token, no API
  const rt = await openRuntime({ service: 'scheduled-job-api' });
  const app = serviceApi(rt, token);
  await app.listen({ host: rt.env.API_HOST, port: rt.env.API_PORT });
  const stop = async () => {
    await app.close();
    await rt.close();
    logger.info('api stopped');
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
