// Prisma 5 and 6 schemas cleaned for Prisma 7's parser: only the datasource's URLs and
// client-only preview features go; comments, strings and line numbers stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanSchemaText, viewNames } from '../../src/prisma/schema-text.ts';
import { parseDatamodel, SchemaParseError } from '../../src/target/dmmf.ts';
import { dataModelDifferences, dataModelFingerprint, type TableShape } from '../../src/target/data-model.ts';

const PRISMA6 = `// datasource db { url = "in a comment" }
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["fullTextSearch", "views", "metrics", "driverAdapters", "postgresqlExtensions"]
}

datasource db {
  provider          = "postgresql" // braces { in a comment
  url               = env("DATABASE_URL")
  directUrl         = env( "DIRECT_URL" )
  shadowDatabaseUrl = "postgresql://u:p@h/db?x={y}&z=\\"}\\""
  extensions        = [pg_trgm]
}

model Link {
  id  Int    @id
  url String @default("url = env(\\"X\\") }")
  /// url = "documentation"
}

view Summary {
  id Int @unique
}
`;

test('the datasource URLs and client-only preview features are blanked, nothing else', () => {
  const cleaned = cleanSchemaText(PRISMA6);
  assert.equal(cleaned.length, PRISMA6.length);
  assert.deepEqual(
    cleaned.split('\n').map((line) => line.length),
    PRISMA6.split('\n').map((line) => line.length),
    'every line keeps its place',
  );
  assert.doesNotMatch(cleaned, /DATABASE_URL|DIRECT_URL|shadowDatabaseUrl|metrics|fullTextSearch|driverAdapters/);
  assert.match(cleaned, /previewFeatures = \[ +"views", +"postgresqlExtensions"\]/);
  for (const kept of [
    '// datasource db { url = "in a comment" }',
    'extensions        = [pg_trgm]',
    '@default("url = env(\\"X\\") }")',
    '/// url = "documentation"',
  ]) {
    assert.ok(cleaned.includes(kept), kept);
  }
  assert.deepEqual(viewNames(cleaned), ['Summary']);
});

test("Prisma 7's parser takes the cleaned schema, and still refuses what it refused for other reasons", async () => {
  const datamodel = await parseDatamodel([{ path: 'schema.prisma', content: cleanSchemaText(PRISMA6) }]);
  assert.deepEqual(
    datamodel.models.map((model) => model.name),
    ['Link', 'Summary'],
  );
  const broken = PRISMA6.replace('id  Int    @id', 'id  Int    @id\n  oops');
  await assert.rejects(parseDatamodel([{ path: 'schema.prisma', content: cleanSchemaText(broken) }]), SchemaParseError);
});

test('a generator whose preview features are all client-only loses the property', () => {
  const text = 'generator client {\n  provider = "prisma-client-js"\n  previewFeatures = ["metrics","tracing"]\n}\n';
  assert.equal(cleanSchemaText(text), text.replace('previewFeatures = ["metrics","tracing"]', ' '.repeat(39)));
});

const column = (name: string, nullable = false) => ({ name, type: 'String' as const, list: false, nullable, nativeType: null });

test('the fingerprint ignores order and sees every column change', () => {
  const tables: TableShape[] = [
    { name: 'B', columns: [column('id'), column('title')], key: ['id'] },
    { name: 'A', columns: [column('x'), column('id')], key: ['id'] },
  ];
  const reordered: TableShape[] = [
    { name: 'A', columns: [column('id'), column('x')], key: ['id'] },
    { name: 'B', columns: [column('title'), column('id')], key: ['id'] },
  ];
  assert.equal(dataModelFingerprint(tables), dataModelFingerprint(reordered));
  const changed: TableShape[] = [
    { name: 'A', columns: [column('id'), column('x', true)], key: ['id'] },
    { name: 'C', columns: [column('id')], key: ['id'] },
  ];
  assert.notEqual(dataModelFingerprint(changed), dataModelFingerprint(tables));
  assert.deepEqual(dataModelDifferences(tables, [], changed), [
    'table B is only in the backup',
    'table C is only in this target',
    'column A.x is String in the backup, String? in this target',
  ]);
});
