// The manifest.json at the head of every archive: what the backup holds and how to check it.
import { z } from 'zod';

export const FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
/** The row encoding written now; `ndjson-v1` archives (no stored values, rows in key order) are read too. */
export const ROW_ENCODING = 'ndjson-v2';
export const ROW_ENCODINGS = ['ndjson-v1', 'ndjson-v2'] as const;

export const BACKUP_KINDS = ['scheduled', 'manual', 'pre-restore', 'pre-upgrade', 'uploaded'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const columnSchema = z.object({
  name: z.string(),
  type: z.enum(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes', 'Enum']),
  list: z.boolean(),
  nullable: z.boolean(),
  nativeType: z.string().nullable(),
});

/** A sequence that numbers a table's rows, as the source database left it. */
const sequenceSchema = z.object({
  /** The column it numbers (PostgreSQL); null for SQLite's AUTOINCREMENT counter. */
  column: z.string().nullable(),
  /** The last value handed out (PostgreSQL's `last_value`, SQLite's `seq`). */
  value: z.string().regex(/^-?\d+$/),
  /** Whether `value` itself was handed out (PostgreSQL's `is_called`; always true for SQLite). */
  called: z.boolean(),
});

const tableSchema = z.object({
  name: z.string().min(1),
  model: z.string().nullable(),
  media: z.boolean(),
  path: z.string().min(1),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256,
  key: z.array(z.string()),
  columns: z.array(columnSchema),
  /** Absent in archives written before sequences were kept, and for a table without one. */
  sequences: z.array(sequenceSchema).optional(),
});

const fileSchema = z.object({
  path: z.string().min(1),
  source: z.string(),
  size: z.number().int().nonnegative(),
  sha256,
  mode: z.number().int().nonnegative(),
});

const fileRootSchema = z.object({
  path: z.string().min(1),
  source: z.string(),
  type: z.enum(['file', 'directory']),
});

/** The schema's tables as one fingerprint (docs/FORMAT.md): how an app without migrations is matched. */
export const dataModelSchema = z.object({ fingerprint: sha256 });

export const manifestSchema = z.object({
  formatVersion: z
    .number()
    .int()
    .positive()
    .max(FORMAT_VERSION, { error: (issue) => `format version ${JSON.stringify(issue.input)}: a newer version of this software wrote it` }),
  generator: z.string().optional(),
  appVersion: z.string(),
  createdAt: z.string().datetime(),
  kind: z.enum(BACKUP_KINDS),
  targetName: z.string(),
  note: z.string().nullable().optional(),
  includesMedia: z.boolean(),
  provider: z.enum(['sqlite', 'postgresql']),
  schemaVersion: z.string().nullable(),
  migrations: z.array(z.string()),
  /** Absent in archives written before it was kept. */
  dataModel: dataModelSchema.optional(),
  encoding: z.enum(ROW_ENCODINGS, { error: (issue) => `rows in ${JSON.stringify(issue.input)}, an encoding this version cannot read` }),
  tables: z.array(tableSchema),
  excludedTables: z.array(z.string()),
  fileRoots: z.array(fileRootSchema),
  files: z.array(fileSchema),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestTable = z.infer<typeof tableSchema>;
export type ManifestFile = z.infer<typeof fileSchema>;
export type ManifestSequence = z.infer<typeof sequenceSchema>;
export type ManifestFileRoot = z.infer<typeof fileRootSchema>;
