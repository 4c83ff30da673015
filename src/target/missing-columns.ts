// The schema's tables and columns the database does not have. Once its migrations are
// applied, a target's database must hold everything its schema maps; what it lacks means a
// wrong TARGET_SCHEMA (or database), found at start-up rather than by the first backup.
import { connectAdapter } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { quoteIdentifier, sqlQuery } from '../prisma/sql.ts';
import type { TableSpec } from './target-schema.ts';

const COLUMNS_SQL = {
  sqlite: `SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view')`,
  // The connection's search path is the URL's `?schema=`.
  postgresql: `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
};

/** `"Table"` for each missing table, `"Table"."column"` for each missing column, in schema order. */
export async function missingColumns(location: DatabaseLocation, tables: TableSpec[]): Promise<string[]> {
  const connection = await connectAdapter(location);
  let rows: unknown[][];
  try {
    rows = (await connection.adapter.queryRaw(sqlQuery(COLUMNS_SQL[location.provider]))).rows;
  } finally {
    await connection.close();
  }
  // SQLite's names are case-insensitive, PostgreSQL's quoted ones exact.
  const fold = (name: string) => (location.provider === 'sqlite' ? name.toLowerCase() : name);
  const existing = new Map<string, Set<string>>();
  for (const [table, column] of rows) {
    const columns = existing.get(fold(String(table))) ?? new Set<string>();
    columns.add(fold(String(column)));
    existing.set(fold(String(table)), columns);
  }
  return tables.flatMap((table) => {
    const columns = existing.get(fold(table.name));
    if (!columns) return [quoteIdentifier(table.name)];
    return table.columns
      .filter((column) => !columns.has(fold(column.name)))
      .map((column) => `${quoteIdentifier(table.name)}.${quoteIdentifier(column.name)}`);
  });
}
