import { buildApi } from './http/server';
import { apiRoutes } from '../app/apiRoutes';
import { env, requireApiToken } from '../config/env';
import { logger } from '../observability/logger';
import { openRuntime } from './runtime';

/** `scheduled-job api`: the HTTP trigger and status API. */
export async function runApi(): Promise<void> {
  const token = requireApiToken(env()); // before anything opens: no token, no API
  const rt = await openRuntime({ service: 'scheduled-job-api' });
  const app = buildApi({ client: rt.client, token, probes: rt.probes, routes: apiRoutes(rt.ds) });
  await app.listen({ host: rt.env.API_HOST, port: rt.env.API_PORT });
  const stop = async () => {
    await app.close();
    await rt.close();
    logger.info('api stopped');
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
