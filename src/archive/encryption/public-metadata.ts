// What a `BCPCRYPT` archive's header shows without the passphrase (an age file shows none of
// it): a few manifest fields, so that the list and the schema check need no key.
import { z } from 'zod';
import { BACKUP_KINDS, dataModelSchema } from '../manifest.ts';

/** Shown without the passphrase; authenticated as part of every chunk's associated data. */
export const publicMetadataSchema = z.object({
  formatVersion: z.number().int().positive(),
  appVersion: z.string().max(200),
  createdAt: z.string().datetime(),
  kind: z.enum(BACKUP_KINDS),
  targetName: z.string().max(200),
  includesMedia: z.boolean(),
  provider: z.enum(['sqlite', 'postgresql']),
  schemaVersion: z.string().max(500).nullable(),
  migrations: z.array(z.string().max(500)).max(100_000),
  dataModel: dataModelSchema.optional(),
});
export type PublicMetadata = z.infer<typeof publicMetadataSchema>;
