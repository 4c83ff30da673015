// Questions asked on the terminal, on stderr so that stdout stays the command's output: a
// confirmation, and a passphrase read without echo. Only asked when a person is there.
import { createInterface } from 'node:readline/promises';

/** Ctrl-C at a prompt (raw mode turns it into a key, not a signal). */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Whether a person can answer: stdin and stderr are both a terminal. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Asks a yes/no question; only "y" or "yes" is a yes. */
export async function confirm(question: string): Promise<boolean> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await lines.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    lines.close();
  }
}

/** Reads one line without showing it (backspace works; Ctrl-C throws InterruptedError, Ctrl-D ends the line). */
export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const end = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          end();
          return resolve(value);
        }
        if (char === '\u0003') {
          end();
          return reject(new InterruptedError());
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
