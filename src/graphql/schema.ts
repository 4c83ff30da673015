// Assembles the schema: importing each module registers its types on the builder.
import { builder } from './builder.ts';
import './errors.ts';
import '../modules/backups/schema.ts';
import '../modules/backups/verify-schema.ts';
import '../modules/restores/schema.ts';
import '../modules/system/schema.ts';
import '../modules/settings/schema.ts';

export const schema = builder.toSchema({ sortSchema: false });
