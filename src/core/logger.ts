// The server's log: one JSON object per line on stdout (pino), at LOG_LEVEL. Values under
// keys that hold secrets are replaced wherever they sit in a logged object, to two levels.
import { pino, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach the log: passwords, passphrases, tokens, codes, secrets, cookies and credentials headers. */
const SECRET_KEYS = [
  'password',
  'currentPassword',
  'newPassword',
  'passphrase',
  'token',
  'setupCode',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
  'x-backup-passphrase',
];
/** As a path segment: `.key`, or `["key-with-hyphens"]`. */
const segment = (key: string) => (/^\w+$/.test(key) ? `.${key}` : `["${key}"]`);
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [segment(key).replace(/^\./, ''), `*${segment(key)}`, `*.*${segment(key)}`]);

const listeners = new Set<(line: string) => void>();
// As console does: a closed stdout (EPIPE) loses lines, never the server.
process.stdout.on('error', () => {});

/** Lines go to stdout as they are made (synchronous on Linux for files, pipes and terminals), and to any listener. */
const destination = {
  write(line: string) {
    process.stdout.write(line);
    for (const listener of listeners) listener(line);
  },
};

/** The root logger. Child loggers follow its level unless they set their own. */
export const log: Logger = pino(
  {
    level: 'info',
    base: { pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  },
  destination,
);

/** A logger whose lines say which part of the server wrote them. */
export function childLogger(component: string): Logger {
  return log.child({ component });
}

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}

/** Calls `listener` with every line written from now on (tests read the log this way); returns the way to stop. */
export function onLogLine(listener: (line: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
