// Assembles the schema: importing each type file registers its types on the builder.
import { builder } from '../builder.ts';
import './errors.ts';
import './backup.ts';
import './verify-report.ts';
import './restore-job.ts';
import './system.ts';
import './backup-settings.ts';

export const schema = builder.toSchema({ sortSchema: false });
