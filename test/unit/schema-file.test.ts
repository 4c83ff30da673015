// schema.graphql is printed from the Pothos schema and committed: it must never drift.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { printedSchema } from '../../scripts/print-schema.ts';

test('schema.graphql matches the Pothos schema (run `npm run schema:print` after a change)', async () => {
  const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
  assert.equal(committed, printedSchema());
});
