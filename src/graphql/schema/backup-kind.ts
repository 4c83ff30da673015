// The BackupKind enum: GraphQL names for the kinds archive names carry.
import { builder } from '../builder.ts';

export const BackupKindEnum = builder.enumType('BackupKind', {
  values: {
    SCHEDULED: { value: 'scheduled' as const },
    MANUAL: { value: 'manual' as const },
    PRE_RESTORE: { value: 'pre-restore' as const },
    UPLOADED: { value: 'uploaded' as const },
  },
});
