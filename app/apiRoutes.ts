import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { notificationRoutes } from '../features/notificationViews/api';

/** The features' read routes, served by the API behind the same token as the job routes. */
export function apiRoutes(ds: DataSource): (app: FastifyInstance) => void {
  return notificationRoutes(ds);
}
