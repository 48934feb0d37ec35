import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { useStackEnv } from '../support/stack';

useStackEnv();

import { API_TYPES_FILE, apiTypesOf, shippedApiDocument } from '../../scripts/apiTypes';

test("client/apiSchema.ts is what the API's document generates (else run `npm run api-types`)", async () => {
  const generated = await apiTypesOf(await shippedApiDocument());
  const committed = readFileSync(API_TYPES_FILE, 'utf8');
  const [g, c] = [generated.split('\n'), committed.split('\n')];
  const first = g.findIndex((line, i) => line !== c[i]);
  assert.ok(
    generated === committed,
    `client/apiSchema.ts differs from the document the API serves, from line ${first + 1}:\n  committed: ${c[first]}\n  generated: ${g[first]}\nRun \`npm run api-types\` with the stack up, then fix what the type check says.`,
  );
});
