// Checks each archived row against the target's columns before a loader writes it: the row's
// length, NOT NULL, and each value's type and range for its column. SQLite would store
// anything it is given, so this is what keeps a crafted archive from leaving the app's database
// holding values the app cannot read; on PostgreSQL the same rule gives the same message.
import { InvalidArchiveError } from '../core/errors.ts';
import type { ColumnSpec, TableSpec } from '../target/target-schema.ts';
import { isStoredValue, type EncodedValue } from './value-encoder.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT_WORDS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const INTEGER_TEXT = /^-?\d{1,19}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** ISO 8601 as the encoder writes it (a date, or a date and time with an offset or Z). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?$/;

export class InvalidRowError extends InvalidArchiveError {}

/** Checks a table's rows in order, counting them so a refusal names the row. */
export class RowChecker {
  private rowNumber = 0;

  /** `numbered`: false where only some of the table's rows pass through this checker (their numbers would be wrong). */
  constructor(
    private readonly table: TableSpec,
    private readonly numbered = true,
  ) {}

  check(row: unknown): EncodedValue[] {
    this.rowNumber++;
    const columns = this.table.columns;
    if (!Array.isArray(row)) throw this.refuse(`is not a list of values`);
    if (row.length !== columns.length) throw this.refuse(`has ${row.length} values for ${columns.length} columns`);
    for (let i = 0; i < columns.length; i++) {
      const problem = valueProblem(columns[i]!, row[i] as EncodedValue);
      if (problem) throw this.refuse(`column ${columns[i]!.name}: ${problem}`);
    }
    return row as EncodedValue[];
  }

  private refuse(problem: string): InvalidRowError {
    const row = this.numbered ? `row ${this.rowNumber}` : 'a row';
    return new InvalidRowError(`the archive's rows do not fit the schema: table ${this.table.name}, ${row} ${problem}`);
  }
}

/** Why a value cannot go into the column, or null when it can. */
export function valueProblem(column: ColumnSpec, value: EncodedValue): string | null {
  // A scalar list is required in the schema, but its column may hold NULL (Prisma creates it
  // without NOT NULL): the database, which has the final word, keeps or refuses it.
  if (value === null) return column.nullable || column.list ? null : 'null in a required column';
  if (isStoredValue(value)) return storedProblem(column, value as unknown as Record<string, unknown>);
  if (column.list) {
    if (!Array.isArray(value)) return `${describe(value)} where a list belongs`;
    for (const element of value) {
      const problem = element === null ? null : scalarProblem(column, element);
      if (problem) return `in the list: ${problem}`;
    }
    return null;
  }
  return scalarProblem(column, value);
}

function scalarProblem(column: ColumnSpec, value: EncodedValue): string | null {
  switch (column.type) {
    case 'String':
      return typeof value === 'string' ? null : `${describe(value)} is not a string`;
    case 'Enum':
      if (typeof value !== 'string') return `${describe(value)} is not an enum value`;
      return !column.enumValues || column.enumValues.includes(value)
        ? null
        : `${describe(value)} is not one of ${column.enumValues.join(', ')}`;
    case 'Int':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
        ? null
        : `${describe(value)} is not a 32-bit integer`;
    case 'BigInt':
      return isInt64(value) ? null : `${describe(value)} is not a 64-bit integer`;
    case 'Float':
      return (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && FLOAT_WORDS.has(value))
        ? null
        : `${describe(value)} is not a number`;
    case 'Decimal':
      return (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && (DECIMAL.test(value) || value === 'NaN'))
        ? null
        : `${describe(value)} is not a decimal`;
    case 'Boolean':
      return typeof value === 'boolean' ? null : `${describe(value)} is not true or false`;
    case 'DateTime':
      return typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : `${describe(value)} is not a date-time`;
    case 'Json':
      return typeof value === 'string' && isJson(value) ? null : `${describe(value)} is not JSON text`;
    case 'Bytes':
      return typeof value === 'string' && BASE64.test(value) ? null : `${describe(value)} is not base64 bytes`;
  }
}

/**
 * A SQLite value kept as stored (value-encoder.ts): exactly one stored form, well formed, and a
 * `v` that is null (Prisma could not read what the database held) or right for the column.
 */
function storedProblem(column: ColumnSpec, value: Record<string, unknown>): string | null {
  const forms = ['i', 'r', 't', 'b'].filter((key) => value[key] !== undefined);
  const unknown = Object.keys(value).filter((key) => !['v', 'i', 'r', 't', 'b'].includes(key));
  if (forms.length !== 1 || unknown.length > 0 || !('v' in value)) return `${describe(value)} is not a stored value`;
  const form = forms[0]!;
  const stored = value[form];
  if (typeof stored !== 'string') return `${describe(value)} is not a stored value`;
  if (form === 'i' && !isInt64(stored)) return `the stored integer ${describe(stored)} is not a 64-bit integer`;
  if (form === 'r' && !FLOAT_WORDS.has(stored) && !Number.isFinite(Number(stored)))
    return `the stored real ${describe(stored)} is not a number`;
  if (form === 'b' && !BASE64.test(stored)) return `the stored blob is not base64`;
  const v = value.v as EncodedValue;
  return v === null || isStoredValue(v) ? (v === null ? null : 'a stored value inside a stored value') : scalarProblem(column, v);
}

function isInt64(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (typeof value !== 'string' || !INTEGER_TEXT.test(value)) return false;
  const integer = BigInt(value);
  return integer >= INT64_MIN && integer <= INT64_MAX;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
