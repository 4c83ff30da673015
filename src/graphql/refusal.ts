// The error a refused field gives: UNAUTHENTICATED when the request has no valid credentials,
// FORBIDDEN when its role (or the setup code) does not allow the field. Typed by its code.
import { GraphQLError } from 'graphql';
import type { Authentication } from '../modules/access/principal.ts';

export function refusalFor(auth: Authentication, field: string): GraphQLError {
  const principal = auth.principal;
  if (!principal) {
    const message = auth.problem ?? 'sign in first: log in with the login mutation, or send Authorization: Bearer <token>';
    return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
  }
  const message =
    principal.kind === 'setupCode'
      ? `the setup code allows only setupAccount and the first-run restore (backups, restoreBackup, restoreJob, restoreProgress), not ${field}`
      : `the ${principal.role} role may not use ${field}: it needs ADMIN`;
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}
