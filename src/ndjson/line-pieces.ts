// Cuts a byte stream of newline-terminated lines into pieces that each end at a line's
// end, so a piece holds whole lines, and whole UTF-8 characters too: a newline byte never
// occurs inside a multi-byte character. A line longer than MAX_LINE_BYTES is refused as it
// arrives, before it is held whole: no row this software writes comes near it.
import { InvalidArchiveError } from '../core/errors.ts';

/** Under V8's longest string (2^29 - 24 UTF-16 units), which a line must fit in to be parsed. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

export class LineTooLongError extends InvalidArchiveError {}

/**
 * Pieces of at least `minBytes` (fewer only at the end), each ending in a newline; if the
 * stream does not end in one, the last piece is what follows the last newline, unended.
 * Only the new chunk is searched for a newline, so a long line costs its bytes once.
 */
export async function* linePieces(source: AsyncIterable<unknown>, minBytes: number, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Bytes of `pending` after its last newline: the line still open. */
  let open = 0;
  for await (const chunk of source) {
    const buffer = chunk as Buffer;
    pending.push(buffer);
    pendingBytes += buffer.length;
    const last = buffer.lastIndexOf(10);
    open = last === -1 ? open + buffer.length : buffer.length - last - 1;
    if (open > maxLineBytes) throw new LineTooLongError(`a row is longer than ${maxLineBytes} bytes: not one this software wrote`);
    if (last === -1 || pendingBytes < minBytes) continue;
    const joined = pending.length === 1 ? buffer : Buffer.concat(pending, pendingBytes);
    const end = pendingBytes - open;
    yield joined.subarray(0, end);
    pending = open > 0 ? [joined.subarray(end)] : [];
    pendingBytes = open;
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** Whether a piece from `linePieces` ends at a line's end. */
export function endsWithNewline(piece: Buffer): boolean {
  return piece.length > 0 && piece[piece.length - 1] === 10;
}

/** The longest line's length in bytes (the text need not end in a newline). */
export function longestLineBytes(text: string | Buffer): number {
  let longest = 0;
  let start = 0;
  const isString = typeof text === 'string';
  for (;;) {
    const end = isString ? text.indexOf('\n', start) : text.indexOf(10, start);
    const stop = end === -1 ? text.length : end;
    const bytes = isString ? Buffer.byteLength(text.slice(start, stop)) : stop - start;
    if (bytes > longest) longest = bytes;
    if (end === -1) return longest;
    start = end + 1;
  }
}
