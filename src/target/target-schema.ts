// Turns a target's Prisma datamodel into the tables a backup reads: columns, keys,
// relations and the media/configuration split, with nothing written per table.
import type { Datamodel, DmmfField, DmmfModel } from './dmmf.ts';
import type { Provider } from '../prisma/database-url.ts';

export type ScalarType = 'String' | 'Int' | 'BigInt' | 'Float' | 'Decimal' | 'Boolean' | 'DateTime' | 'Json' | 'Bytes' | 'Enum';

export interface ColumnSpec {
  /** Column name in the database (after `@map`). */
  name: string;
  type: ScalarType;
  list: boolean;
  nullable: boolean;
  /** Native database type (`@db.X`), e.g. `Timestamptz`, when the schema gives one. */
  nativeType: string | null;
  /** An enum column's values as the database stores them; never written to a manifest. */
  enumValues?: string[];
}

export interface TableSpec {
  /** Table name in the database (after `@@map`). */
  name: string;
  /** The Prisma model, or null for an implicit many-to-many join table. */
  model: string | null;
  media: boolean;
  columns: ColumnSpec[];
  /** Columns that identify a row; rows are read in this order, so output is deterministic. */
  key: string[];
  /** Tables this one references through foreign keys (restore order). */
  references: string[];
}

export interface TargetSchema {
  provider: Provider;
  tables: TableSpec[];
}

export const MEDIA_ANNOTATION = /@backup\(\s*media\s*\)/;

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

/**
 * `views` names the schema's `view` blocks, which the datamodel lists as models: they hold
 * no rows of their own, so they are left out. Models in named database schemas
 * (`@@schema`) are refused: tables are addressed by name alone.
 */
export function buildTargetSchema(datamodel: Datamodel, provider: Provider, views: string[] = []): TargetSchema {
  const inSchema = datamodel.models.find((model) => model.schema);
  if (inSchema) {
    throw new Error(`model ${inSchema.name} is in database schema "${inSchema.schema}": @@schema (multiSchema) is not supported`);
  }
  const models = datamodel.models.filter((model) => !views.includes(model.name));
  const byName = new Map(models.map((model) => [model.name, model]));
  // The values a database holds are the @map names where there are any.
  const enumValues = new Map((datamodel.enums ?? []).map((e) => [e.name, e.values.map((value) => value.dbName ?? value.name)]));
  const tableName = (model: DmmfModel) => model.dbName ?? model.name;
  const isMedia = (model: DmmfModel) => MEDIA_ANNOTATION.test(model.documentation ?? '');

  const tables: TableSpec[] = models.map((model) => {
    const scalarFields = model.fields.filter((field) => field.kind === 'scalar' || field.kind === 'enum');
    const columns = scalarFields.map((field) => toColumn(field, enumValues));
    const columnOf = (fieldName: string) => columnName(model.fields.find((f) => f.name === fieldName)!);
    const references = model.fields
      .filter((field) => field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0 && byName.has(field.type))
      .map((field) => tableName(byName.get(field.type)!));
    return {
      name: tableName(model),
      model: model.name,
      media: isMedia(model),
      columns,
      key: rowKey(model).map(columnOf),
      references: [...new Set(references)],
    };
  });

  for (const join of implicitManyToMany(models)) {
    const [a, b] = join.models.map((name) => byName.get(name)!);
    tables.push({
      name: `_${join.relationName}`,
      model: null,
      // A join row is meaningless without both ends, so it goes where the media side goes.
      media: isMedia(a!) || isMedia(b!),
      columns: [
        { ...toColumn(idField(a!), enumValues), name: 'A', nullable: false },
        { ...toColumn(idField(b!), enumValues), name: 'B', nullable: false },
      ],
      key: ['A', 'B'],
      references: [...new Set([tableName(a!), tableName(b!)])],
    });
  }
  return { provider, tables };
}

function columnName(field: DmmfField): string {
  return field.dbName ?? field.name;
}

function toColumn(field: DmmfField, enumValues: Map<string, string[]>): ColumnSpec {
  const type = field.kind === 'enum' ? 'Enum' : field.type;
  if (!SCALARS.has(type) && type !== 'Enum') throw new Error(`unsupported field type ${field.type} on ${field.name}`);
  return {
    name: columnName(field),
    type: type as ScalarType,
    list: field.isList,
    nullable: !field.isRequired && !field.isList,
    nativeType: field.nativeType?.[0] ?? null,
    ...(field.kind === 'enum' && enumValues.has(field.type) ? { enumValues: enumValues.get(field.type) } : {}),
  };
}

/** Prisma guarantees every model an id, a compound id or a unique of required fields. */
function rowKey(model: DmmfModel): string[] {
  const id = model.fields.find((field) => field.isId);
  if (id) return [id.name];
  if (model.primaryKey) return model.primaryKey.fields;
  const required = (names: string[]) => names.every((n) => model.fields.find((f) => f.name === n)?.isRequired);
  const unique = model.fields.find((field) => field.isUnique && field.isRequired);
  if (unique) return [unique.name];
  const compound = model.uniqueFields.find(required);
  if (compound) return compound;
  return model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum').map((f) => f.name);
}

function idField(model: DmmfModel): DmmfField {
  const id = model.fields.find((field) => field.isId);
  if (!id) throw new Error(`model ${model.name} is in an implicit many-to-many relation but has no single @id`);
  return id;
}

/**
 * Implicit many-to-many relations have no model: Prisma stores them in `_<RelationName>`
 * with columns A and B, A pointing at the model whose name sorts first.
 */
function implicitManyToMany(models: DmmfModel[]) {
  const seen = new Map<string, { relationName: string; models: [string, string] }>();
  for (const model of models) {
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.isList || !field.relationName) continue;
      const other = models.find((m) => m.name === field.type);
      const back = other?.fields.find(
        (f) => f.kind === 'object' && f.relationName === field.relationName && f.type === model.name && f !== field,
      );
      if (!back?.isList || seen.has(field.relationName)) continue;
      const pair = [model.name, field.type].sort() as [string, string];
      seen.set(field.relationName, { relationName: field.relationName, models: pair });
    }
  }
  return [...seen.values()];
}
