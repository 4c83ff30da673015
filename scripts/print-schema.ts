// Writes schema.graphql from the Pothos schema (`npm run schema:print`); a test fails when it is stale.
import { writeFile } from 'node:fs/promises';
import { printSchema } from 'graphql';
import { schema } from '../src/graphql/schema/index.ts';

export const printedSchema = () => printSchema(schema) + '\n';

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL('../schema.graphql', import.meta.url), printedSchema());
  console.log('wrote schema.graphql');
}
