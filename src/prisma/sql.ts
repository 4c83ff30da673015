// Small helpers for writing SQL against any provider through a driver adapter.
import type { ArgType, SqlQuery } from '@prisma/driver-adapter-utils';

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const UNKNOWN_ARG: ArgType = { scalarType: 'unknown', arity: 'scalar' };

export function sqlQuery(sql: string, args: unknown[] = []): SqlQuery {
  return { sql, args, argTypes: args.map(() => UNKNOWN_ARG) };
}
