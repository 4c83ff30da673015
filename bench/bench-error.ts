// The benchmark's own failures: a BenchError is reported as its message alone, anything else
// (a bug in the benchmark) with its stack.
export class BenchError extends Error {}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** What to print for a failure: the message of a BenchError, the stack of anything else. */
export function failureText(error: unknown): string {
  return error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error));
}
