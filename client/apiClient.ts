import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './apiSchema';

/** The HTTP API's paths, methods, parameters, bodies and answers, as its OpenAPI document states them. */
export type ApiPaths = paths;
export type ApiClient = Client<paths>;

/**
 * A typed client of the HTTP API (openapi-fetch over the types generated from its document): a path, parameter,
 * body or answer field the document does not have is a type error, so callers move with the contract. Each call
 * resolves to `{ data, error, response }`: `data` for a 2xx, `error` (the error body) otherwise.
 */
export function apiClient(baseUrl: string, token?: string): ApiClient {
  return createClient<paths>({ baseUrl, headers: token ? { authorization: `Bearer ${token}` } : {} });
}
