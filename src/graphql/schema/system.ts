// GraphQL for the `system` query.
import { builder } from '../builder.ts';
import type { SystemInfo } from '../../modules/system/service.ts';

const TargetTable = builder.objectRef<{ name: string; media: boolean }>('TargetTable').implement({
  fields: (t) => ({ name: t.exposeString('name'), media: t.exposeBoolean('media') }),
});

const TargetDatabaseStateEnum = builder.enumType('TargetDatabaseState', {
  description: 'Whether the target database is there to back up.',
  values: {
    PRESENT: { value: 'present', description: 'It holds tables.' },
    EMPTY: { value: 'empty', description: "It exists and holds no tables: a restore creates them with the backup's own migrations." },
    MISSING: { value: 'missing', description: 'Its SQLite file does not exist yet: a restore creates it.' },
  } as const,
});

const SystemInfoRef = builder.objectRef<SystemInfo>('SystemInfo').implement({
  fields: (t) => ({
    appVersion: t.exposeString('appVersion'),
    targetName: t.exposeString('targetName'),
    targetDatabase: t.field({ type: TargetDatabaseStateEnum, resolve: (s) => s.targetDatabase }),
    schemaVersion: t.exposeString('schemaVersion', { nullable: true, description: 'The newest migration applied to the target.' }),
    pendingMigrations: t.exposeStringList('pendingMigrations', {
      description:
        "Migrations in the target's folder its database has not applied. Nothing applies them here unless TARGET_MIGRATE=deploy.",
    }),
    databaseProvider: t.exposeString('databaseProvider', { description: 'The target database: sqlite or postgresql.' }),
    controlDatabaseProvider: t.exposeString('controlDatabaseProvider'),
    backupDir: t.exposeString('backupDir'),
    freeBytes: t.expose('freeBytes', { type: 'SafeInt', description: 'Free space in the backup folder.' }),
    tables: t.field({ type: [TargetTable], resolve: (s) => s.tables }),
  }),
});

builder.queryField('system', (t) => t.field({ type: SystemInfoRef, resolve: (_root, _args, ctx) => ctx.services.system.info() }));
