// The BackupKind enum: GraphQL names for the kinds archive names carry.
import { builder } from '../builder.ts';

export const BackupKindEnum = builder.enumType('BackupKind', {
  values: {
    SCHEDULED: { value: 'scheduled' as const },
    MANUAL: { value: 'manual' as const },
    PRE_RESTORE: { value: 'pre-restore' as const },
    PRE_UPGRADE: {
      value: 'pre-upgrade' as const,
      description: "Taken before TARGET_MIGRATE=deploy applied the app's pending migrations, or by the CLI's `backup --pre-upgrade`.",
    },
    UPLOADED: { value: 'uploaded' as const },
  },
});
