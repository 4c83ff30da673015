// The server's log as a test reads it: every JSON line the logger writes from now on, in this
// process (startServer runs the server here).
import { onLogLine } from '../../src/core/logger.ts';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export interface CapturedLog {
  /** Everything written, as written. */
  text(): string;
  /** Each line parsed. */
  lines(): LogLine[];
  stop(): void;
}

export function captureLog(): CapturedLog {
  const written: string[] = [];
  const stop = onLogLine((line) => void written.push(line));
  return {
    text: () => written.join(''),
    lines: () => written.map((line) => JSON.parse(line) as LogLine),
    stop: () => void stop(),
  };
}
