import type { DataSource } from 'typeorm';
import { notificationRoutes } from '../features/notificationViews/api';
import type { ApiRoutes } from '../workers/http/app';

/** The features' read routes, served by the API behind the same token as the job routes. */
export function apiRoutes(ds: DataSource): ApiRoutes[] {
  return [notificationRoutes(ds)];
}
