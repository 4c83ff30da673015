// POSIX tar (ustar) headers for regular files, with a pax extended header for names
// that do not fit and GNU base-256 for sizes past 8 GiB, as GNU tar and tar-stream read them.

export const BLOCK = 512;
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

export interface TarFileHeader {
  name: string;
  size: number;
  mode: number;
  date: Date;
}

/** The header block(s) that precede a regular file's data. */
export function encodeFileHeader(entry: TarFileHeader): Buffer {
  const split = splitName(entry.name);
  if (split) return ustarBlock({ ...entry, ...split, type: '0' });
  // A pax record carries the full name; the ustar block holds a shortened stand-in.
  const record = paxRecord('path', entry.name);
  const pax = ustarBlock({ name: 'PaxHeader', prefix: '', size: record.length, mode: 0o644, date: entry.date, type: 'x' });
  const standIn = Buffer.from(entry.name, 'utf8')
    .subarray(-NAME_BYTES)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
  return Buffer.concat([pax, record, padding(record.length), ustarBlock({ ...entry, name: standIn, prefix: '', type: '0' })]);
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

function splitName(name: string): { name: string; prefix: string } | null {
  const bytes = Buffer.byteLength(name);
  if (bytes <= NAME_BYTES) return { name, prefix: '' };
  for (let at = name.indexOf('/'); at !== -1; at = name.indexOf('/', at + 1)) {
    const prefix = name.slice(0, at);
    const rest = name.slice(at + 1);
    if (Buffer.byteLength(prefix) <= PREFIX_BYTES && Buffer.byteLength(rest) <= NAME_BYTES && rest.length > 0)
      return { name: rest, prefix };
  }
  return null;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  // The record starts with its own length in decimal, which counts its own digits.
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`, 'utf8');
}

function ustarBlock(fields: TarFileHeader & { prefix: string; type: '0' | 'x' }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, NAME_BYTES, 'utf8');
  writeOctal(block, fields.mode & 0o7777, 100, 8);
  writeOctal(block, 0, 108, 8); // uid
  writeOctal(block, 0, 116, 8); // gid
  if (fields.size <= MAX_OCTAL_SIZE) writeOctal(block, fields.size, 124, 12);
  else writeBase256(block, fields.size, 124, 12);
  writeOctal(block, Math.max(0, Math.floor(fields.date.getTime() / 1000)), 136, 12);
  block.write(fields.type, 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'latin1');
  block.write(fields.prefix, 345, PREFIX_BYTES, 'utf8');
  // The checksum is computed with its own field as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
  return block;
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\u0000', offset, length, 'latin1');
}

/** GNU's form for numbers too large for octal: the high bit set, then big-endian bytes. */
function writeBase256(block: Buffer, value: number, offset: number, length: number): void {
  let rest = BigInt(value);
  for (let at = offset + length - 1; at > offset; at--) {
    block[at] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  block[offset] = 0x80;
}
