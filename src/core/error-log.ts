// The server log of failures: an unexpected error gets a short random id and one log line
// with its cause chain as the message and its stack in `err`; the client is shown only the id.
import { randomBytes } from 'node:crypto';
import { AppError } from './errors.ts';
import { log } from './logger.ts';

/** Logs an unexpected error (where it happened, its cause chain, its stack) and returns its id. */
export function logUnexpectedError(where: string, error: unknown): string {
  const id = randomBytes(4).toString('hex');
  log.error({ errorId: id, where, err: error }, `error ${id} in ${where}: ${causeChain(error)}`);
  return id;
}

/**
 * A background job's failure, logged, and the text to record for it: an AppError's own
 * message (one line in the log), or anything else's message with its error id.
 */
export function recordFailure(where: string, error: unknown): string {
  if (error instanceof AppError) {
    log.error({ where, errorType: error.name }, `${where} failed: ${error.message}`);
    return error.message;
  }
  const id = logUnexpectedError(where, error);
  return `${messageOf(error)} (error id ${id}: see the server log)`;
}

/**
 * The same text for a failure the operation log records too: an AppError's message is not
 * logged again (the operation's line says it); anything else is logged with its stack and id.
 */
export function failureText(where: string, error: unknown): string {
  if (error instanceof AppError) return error.message;
  return recordFailure(where, error);
}

/** The error's message and each cause's, outermost first, on one line. */
export function causeChain(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current != null && !seen.has(current) && parts.length < 8; current = causeOf(current)) {
    seen.add(current);
    parts.push(current instanceof Error ? `${current.name}: ${messageOf(current)}` : messageOf(current));
  }
  return parts.join(' <- caused by ');
}

function causeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'object' ? safeJson(error) : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
