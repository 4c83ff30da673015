// Sets a PostgreSQL table set's indexes and foreign keys aside while it is reloaded and puts them
// back from their own definitions, as pg_restore does: building each index once beats updating it
// and queueing a foreign-key check per row (docs/PERFORMANCE.md, "Measurements behind the code").
import { quoteIdentifier as q, sqlQuery } from '../../prisma/sql.ts';
import type { SqlRunner } from './postgres-session.ts';

export interface SetAside {
  /** Re-creates the indexes, then the foreign keys, which checks every row at once. */
  restore(): Promise<void>;
}

interface IndexDefinition {
  table: string;
  /** The index's name, or its owning constraint's. */
  name: string;
  /** `CREATE INDEX …` for a plain index; null when a constraint owns it. */
  indexDef: string | null;
  /** `PRIMARY KEY (…)`, `UNIQUE (…)`: the owning constraint's definition. */
  constraintDef: string | null;
}

interface ForeignKeyDefinition {
  table: string;
  name: string;
  definition: string;
}

/**
 * Drops the foreign keys, indexes and key constraints of `tables`, inside the restore's
 * transaction (PostgreSQL's DDL is transactional) and under its locks: no other session
 * ever sees a table without its keys, and a rollback or a crash puts them back as they were.
 */
export async function setAsideKeys(runner: SqlRunner, schema: string, tables: string[]): Promise<SetAside> {
  const qualified = (table: string) => `${q(schema)}.${q(table)}`;
  const inSet = new Set(tables);
  const foreignKeys = (
    await runner.queryRaw(
      sqlQuery(
        `SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), rn.nspname, r.relname
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
         WHERE k.contype = 'f' AND (n.nspname = $1 OR rn.nspname = $1)`,
        [schema],
      ),
    )
  ).rows.map(([table, name, definition, referencedSchema, referenced]) => ({
    table: String(table),
    name: String(name),
    definition: String(definition),
    from: String(table),
    to: referencedSchema === schema ? String(referenced) : null,
  }));
  // A key from outside the set pins the index it points at: those tables keep theirs.
  const pinned = new Set(foreignKeys.filter((key) => !inSet.has(key.from) && key.to !== null).map((key) => key.to!));
  const ownKeys: ForeignKeyDefinition[] = foreignKeys.filter((key) => inSet.has(key.from));
  const indexes: IndexDefinition[] = (
    await runner.queryRaw(
      sqlQuery(
        `SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid)
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class ic ON ic.oid = i.indexrelid
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
         WHERE n.nspname = $1 ORDER BY c.relname, ic.relname`,
        [schema],
      ),
    )
  ).rows
    .map(([table, indexName, indexDef, constraintName, constraintDef]) => ({
      table: String(table),
      name: String(constraintName ?? indexName),
      indexDef: constraintDef === null ? String(indexDef) : null,
      constraintDef: constraintDef === null ? null : String(constraintDef),
    }))
    .filter((index) => inSet.has(index.table) && !pinned.has(index.table));

  for (const key of ownKeys) await runner.executeRaw(sqlQuery(`ALTER TABLE ${qualified(key.table)} DROP CONSTRAINT ${q(key.name)}`));
  for (const index of indexes) {
    await runner.executeRaw(
      sqlQuery(
        index.constraintDef === null
          ? `DROP INDEX ${q(schema)}.${q(index.name)}`
          : `ALTER TABLE ${qualified(index.table)} DROP CONSTRAINT ${q(index.name)}`,
      ),
    );
  }
  return {
    async restore() {
      // Primary keys and unique constraints first: the foreign keys need them.
      for (const index of indexes) {
        await runner.executeRaw(
          sqlQuery(
            index.constraintDef === null
              ? index.indexDef!
              : `ALTER TABLE ${qualified(index.table)} ADD CONSTRAINT ${q(index.name)} ${index.constraintDef}`,
          ),
        );
      }
      for (const key of ownKeys) {
        await runner.executeRaw(sqlQuery(`ALTER TABLE ${qualified(key.table)} ADD CONSTRAINT ${q(key.name)} ${key.definition}`));
      }
    },
  };
}
