import { buildApi } from '../client/httpApi';
import { notificationRoutes } from '../client/notificationsApi';
import { logger } from '../observability/logger';
import { openRuntime } from './runtime';

/** `scheduled-job api`: the HTTP trigger and status API. */
export async function runApi(): Promise<void> {
  const rt = await openRuntime();
  const app = buildApi({ client: rt.client, token: rt.env.API_TOKEN, routes: notificationRoutes(rt.ds) });
  await app.listen({ host: rt.env.API_HOST, port: rt.env.API_PORT });
  const stop = async () => {
    await app.close();
    await rt.close();
    logger.info('api stopped');
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
