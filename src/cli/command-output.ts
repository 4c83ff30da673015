// What a command prints: its result on stdout (lines for a person, or one JSON object with
// --json), errors on stderr (or as a JSON object), progress as ProgressDisplay draws it.
import { Writable } from 'node:stream';
import { ProgressDisplay } from './progress-display.ts';

export class CommandOutput {
  constructor(
    readonly json: boolean,
    readonly command: string,
    /** Writes to the real stdout (the tool sends everything else written there to stderr). */
    private readonly stdout: (text: string | Buffer, done?: () => void) => void,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** The result: `data` as one JSON object with --json, else `lines`. */
  result(data: Record<string, unknown>, lines: string[]): void {
    if (this.json) this.stdout(`${JSON.stringify({ type: 'result', command: this.command, ...data })}\n`);
    else if (lines.length > 0) this.stdout(`${lines.join('\n')}\n`);
  }

  /** A line for the person at the terminal, on stderr; nothing with --json. */
  note(line: string): void {
    if (!this.json) this.stderr.write(`${line}\n`);
  }

  error(error: Error, exitCode: number): void {
    if (this.json) {
      this.stdout(`${JSON.stringify({ type: 'error', command: this.command, exitCode, error: error.name, message: error.message })}\n`);
    } else {
      this.stderr.write(`backup-control-plane ${this.command}: ${error.message}\n`);
    }
  }

  /** The real stdout as a stream, for bytes that are the command's output (decrypt -o -). */
  stdoutStream(): Writable {
    const write = this.stdout;
    return new Writable({
      write(chunk: Buffer, _encoding, done) {
        write(chunk, () => done());
      },
    });
  }

  /** A bar on a terminal, plain lines elsewhere, JSON lines with --json. */
  progress(): ProgressDisplay {
    const mode = this.json ? 'json' : this.stderr.isTTY ? 'bar' : 'lines';
    return new ProgressDisplay(mode, { stdout: this.stdout, stderr: this.stderr });
  }
}
