// Assembles the schema: importing each type file registers its types on the builder.
import { builder } from '../builder.ts';
import { auditMutations } from '../audit-mutations.ts';
import './errors.ts';
import './backup.ts';
import './verify-report.ts';
import './restore-job.ts';
import './job.ts';
import './backup-job.ts';
import './system.ts';
import './backup-settings.ts';
import './account.ts';
import './api-token.ts';
import './audit-event.ts';
import './webhook.ts';

export const schema = auditMutations(builder.toSchema({ sortSchema: false }));
