// The header of an encrypted archive (`….tar.gz.enc`), told by its first bytes: age v1,
// which new archives use, or `BCPCRYPT`, the format before it, still read.
import type { Readable } from 'node:stream';
import { InvalidArchiveError } from '../../core/errors.ts';
import { ageHeaderLength, isAge, parseAgeHeader, type AgeHeader } from './age-header.ts';
import { bcpcryptHeaderLength, isBcpcrypt, parseBcpcryptHeader, type BcpcryptHeader } from './bcpcrypt-header.ts';

export { publicMetadataSchema, type PublicMetadata } from './public-metadata.ts';

/** Either format's header; `metadata` is what it shows without the passphrase (null for age). */
export type EnvelopeHeader = AgeHeader | BcpcryptHeader;

/** Whether these first bytes (8 or more) are those of an encrypted archive, in either format. */
export function isEnvelope(head: Buffer): boolean {
  return isAge(head) || isBcpcrypt(head);
}

/**
 * Reads and checks the header from the start of `source`, consuming only the header's
 * bytes' worth of chunks, then releases the source. A damaged or hostile header is an
 * InvalidArchiveError; nothing here needs the passphrase or derives a key.
 */
export async function readEnvelopeHeader(source: Readable): Promise<EnvelopeHeader> {
  let buffered = Buffer.alloc(0);
  try {
    for await (const chunk of source) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      if (buffered.length < 8) continue;
      if (isAge(buffered)) {
        const length = ageHeaderLength(buffered);
        if (length !== null) return parseAgeHeader(buffered.subarray(0, length));
      } else {
        const length = bcpcryptHeaderLength(buffered);
        if (length !== null && buffered.length >= length) return parseBcpcryptHeader(buffered.subarray(0, length));
      }
    }
    throw new InvalidArchiveError('the encrypted archive ends inside its header');
  } finally {
    source.destroy();
  }
}
