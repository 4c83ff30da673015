// Failures that come from the machine rather than from this code (a full disk, a
// read-only or unreadable folder): the user can act on them, so they are reported as
// what they are instead of as an unexpected error.

const CAUSES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission was denied',
  EPERM: 'the operation was not permitted',
  EIO: 'the disk reported an input/output error',
};

/** What went wrong, in words and with the system's own message; null for any other error. */
export function environmentFailure(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !(code in CAUSES)) return null;
  return `${CAUSES[code]} (${(error as Error).message})`;
}
