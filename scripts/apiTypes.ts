/**
 * `npm run api-types`: writes client/apiSchema.ts, the TypeScript types of the HTTP API, from the OpenAPI document of
 * the API as `scheduled-job api` serves it with the shipped jobs (openapi-typescript). The typed client
 * (client/apiClient.ts) and every test that calls the API compile against it, so a change of a route's schemas that
 * callers would feel fails the type check once the types are regenerated; test/integration/apiTypes.test.ts fails
 * while they are not. Needs the stack's Postgres and Temporal, as `scheduled-job api` does (or a URL of a running API
 * as its argument).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { serviceApi } from '../workers/api';
import { openRuntime } from '../workers/runtime';

export const API_TYPES_FILE = path.join(__dirname, '..', 'client', 'apiSchema.ts');

const HEADER = `/**
 * The HTTP API's types, generated from its OpenAPI document by \`npm run api-types\` (scripts/apiTypes.ts): do not edit.
 * test/integration/apiTypes.test.ts fails when they differ from what the API serves.
 */

`;

export async function apiTypesOf(doc: object): Promise<string> {
  return HEADER + astToString(await openapiTS(doc as OpenAPI3));
}

/** The document of the API `scheduled-job api` serves with the shipped jobs (JOBS_MODULE would add the caller's own). */
export async function shippedApiDocument(): Promise<object> {
  delete process.env['JOBS_MODULE'];
  const rt = await openRuntime();
  try {
    const app = serviceApi(rt, 'api-types');
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    await app.close();
    return res.json() as object;
  } finally {
    await rt.close();
  }
}

async function main(): Promise<void> {
  const url = process.argv[2];
  const doc = url ? ((await (await fetch(new URL('/openapi.json', url))).json()) as object) : await shippedApiDocument();
  writeFileSync(API_TYPES_FILE, await apiTypesOf(doc));
  console.log(`wrote ${path.relative(process.cwd(), API_TYPES_FILE)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
