// Cuts a byte stream of newline-terminated lines into pieces that each end at a line's
// end, so a piece holds whole lines, and whole UTF-8 characters too: a newline byte never
// occurs inside a multi-byte character.

/**
 * Pieces of at least `minBytes` (fewer only at the end), each ending in a newline; if the
 * stream does not end in one, the last piece is what follows the last newline, unended.
 */
export async function* linePieces(source: AsyncIterable<unknown>, minBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    const buffer = chunk as Buffer;
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes < minBytes) continue;
    const joined = pending.length === 1 ? buffer : Buffer.concat(pending, pendingBytes);
    const end = joined.lastIndexOf(10) + 1;
    if (end === 0) {
      pending = [joined];
      continue;
    }
    yield joined.subarray(0, end);
    pending = end < joined.length ? [joined.subarray(end)] : [];
    pendingBytes = joined.length - end;
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** Whether a piece from `linePieces` ends at a line's end. */
export function endsWithNewline(piece: Buffer): boolean {
  return piece.length > 0 && piece[piece.length - 1] === 10;
}
