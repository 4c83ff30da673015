// Bytes shared by the converters between COPY and archive lines: the ASCII codes they
// compare, and the buffer helpers they grow their output and read `true`, `false` and
// `null` with.

export const TAB = 0x09;
export const NEWLINE = 0x0a;
export const SPACE = 0x20;
export const QUOTE = 0x22;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
export const SLASH = 0x2f;
export const ZERO = 0x30;
export const NINE = 0x39;
export const COLON = 0x3a;
export const CAPITAL_E = 0x45;
export const CAPITAL_T = 0x54;
export const CAPITAL_Z = 0x5a;
export const OPEN = 0x5b;
export const BACKSLASH = 0x5c;
export const CLOSE = 0x5d;
export const LETTER_E = 0x65;
export const LETTER_F = 0x66;
export const LETTER_N = 0x6e;
export const LETTER_R = 0x72;
export const LETTER_T = 0x74;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;

/** A copy of `out`'s first `used` bytes in a buffer with room for at least `more` after them. */
export function grownBuffer(out: Buffer, used: number, more: number): Buffer {
  const grown = Buffer.allocUnsafe(2 * (used + more));
  out.copy(grown, 0, 0, used);
  return grown;
}

/** The end of the bytes `true` or `false` at `at`, or -1. */
export function literalEnd(bytes: Buffer, at: number): number {
  const c = bytes[at];
  if (c === 0x74 && bytes[at + 1] === 0x72 && bytes[at + 2] === 0x75 && bytes[at + 3] === 0x65) return at + 4;
  if (c === 0x66 && bytes[at + 1] === 0x61 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x73 && bytes[at + 4] === 0x65) return at + 5;
  return -1;
}

/** Whether the bytes at `at` are JSON's `null`. */
export function isNullAt(bytes: Buffer, at: number): boolean {
  return bytes[at] === 0x6e && bytes[at + 1] === 0x75 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x6c;
}
