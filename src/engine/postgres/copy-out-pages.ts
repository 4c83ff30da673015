// `COPY … TO STDOUT` read straight off the connection's socket, in pages of the server's own
// CopyData messages (one per row), framing included: a row costs reading its header, not a buffer
// of its own as in pg-copy-streams and pg (docs/PERFORMANCE.md, "Measurements behind the code").
import { Readable } from 'node:stream';

/** The part of pg's Connection this uses: the socket, and sending a query. */
interface PgConnection {
  stream: Readable;
  query(text: string): void;
}

/** The message that carries a row. */
export const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
/** Skipped where they come: the copy's start, and what the server may send at any moment. */
const SKIPPED = new Set([
  0x48, // 'H' CopyOutResponse
  0x4e, // 'N' NoticeResponse
  0x53, // 'S' ParameterStatus
  0x41, // 'A' NotificationResponse
]);
/** A message's type byte and length. */
export const HEADER_BYTES = 5;

/**
 * pg runs this as it runs pg-copy-streams and pg-cursor (a "submittable"): `submit` is
 * called with the connection when the query's turn comes. The socket is taken from pg's
 * parser for the copy's data, and handed back, with whatever follows it, at the copy's end
 * (CopyDone) or at an error, so pg reads the server's last word itself and ends the query
 * or reports the error through `handleError`. copy-text-to-ndjson.ts reads the rows of each
 * page in place, skipping the headers.
 */
export class CopyOutPages extends Readable {
  private connection: PgConnection | null = null;
  /** pg's own reader of the socket, set aside while the copy runs. */
  private pgReader: ((data: Buffer) => void) | null = null;
  private readonly onReadable = () => this.pull();
  private wanted = false;
  private pulling = false;
  /** Received and not yet handed on: whole messages, then part of the next. */
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Where, in `chunks` taken as one, the next message not yet read begins. */
  private next = 0;
  /** Which chunk holds `next`, and where that chunk begins: the walk goes forward only. */
  private chunkIndex = 0;
  private chunkStart = 0;

  /** `minBytes`: pages are at least this long, but for the last one. */
  constructor(
    readonly text: string,
    private readonly minBytes: number,
  ) {
    super();
  }

  /** pg's call; an error returned (pg's convention) comes back through `handleError`. */
  submit(connection: PgConnection): Error | undefined {
    const socket = connection.stream;
    const readers = socket.listeners('data');
    if (readers.length !== 1) return new Error(`expected pg to read its socket through one listener, found ${readers.length}`);
    this.connection = connection;
    this.pgReader = readers[0] as (data: Buffer) => void;
    socket.removeListener('data', this.pgReader);
    socket.pause();
    socket.on('readable', this.onReadable);
    connection.query(this.text);
    return undefined;
  }

  override _read(): void {
    this.wanted = true;
    this.pull();
  }

  /** Reads the socket while the consumer wants more. */
  private pull(): void {
    if (this.pulling || !this.wanted || !this.connection) return;
    this.pulling = true;
    const socket = this.connection.stream;
    let chunk: Buffer | null;
    while (this.wanted && this.connection && (chunk = socket.read() as Buffer | null) !== null) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      this.walk();
    }
    this.pulling = false;
  }

  /** Reads message headers as far as they have arrived, handing on pages as they fill. */
  private walk(): void {
    while (this.next + HEADER_BYTES <= this.bytes) {
      const type = this.byteAt(this.next);
      const end = this.next + 1 + this.lengthAt(this.next + 1);
      if (end > this.bytes && (type === COPY_DATA || SKIPPED.has(type))) return;
      if (type === COPY_DATA) {
        this.next = end;
        if (this.next >= this.minBytes) this.handOn(this.next, this.next);
      } else if (SKIPPED.has(type)) {
        // Rows stop here for a moment: what came before is a page of its own.
        this.handOn(this.next, end);
      } else {
        // After an ErrorResponse, pg reads it and calls handleError: the stream must not end first.
        if (type === COPY_DONE) this.finish(this.next, this.next + HEADER_BYTES, 'done');
        else if (type === ERROR_RESPONSE) this.finish(this.next, this.next, 'failing');
        else this.finish(this.next, this.next, new Error(`the server sent a message of type ${type} inside a COPY`));
        return;
      }
    }
  }

  /** Pushes the rows before `pageEnd` as a page and keeps what follows `keepFrom`. */
  private handOn(pageEnd: number, keepFrom: number): void {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks = keepFrom < all.length ? [all.subarray(keepFrom)] : [];
    this.bytes = all.length - keepFrom;
    this.next = 0;
    this.chunkIndex = 0;
    this.chunkStart = 0;
    if (pageEnd > 0 && !this.push(all.subarray(0, pageEnd))) this.wanted = false;
  }

  /**
   * The rows end at `at` (at CopyDone, or the server's error): the last of them go out,
   * and the socket goes back to pg with what follows from `pgFrom`, for pg to end the
   * query or report the error. Unless it is done, the rows read so far go nowhere.
   */
  private finish(at: number, pgFrom: number, outcome: 'done' | 'failing' | Error): void {
    const socket = this.connection!.stream;
    const all = Buffer.concat(this.chunks, this.bytes);
    this.connection = null;
    this.chunks = [];
    this.bytes = 0;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', this.pgReader!);
    this.pgReader!(all.subarray(pgFrom));
    // pause() in submit stopped the socket's flow; a new 'data' listener does not restart it.
    process.nextTick(() => socket.resume());
    if (outcome instanceof Error) this.destroy(outcome);
    if (outcome !== 'done') return;
    if (at > 0) this.push(all.subarray(0, at));
    this.push(null);
  }

  /**
   * Given up before the copy's end (the backup failed, or its reader stopped): the server
   * would go on sending the table to a socket no one reads, and pg would hold every later
   * statement, the transaction's ROLLBACK too, behind a query that never ends. The
   * connection is cut instead: pg fails the query and whatever waits behind it, and a
   * read-only snapshot has nothing to lose.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.connection) {
      const socket = this.connection.stream;
      this.connection = null;
      socket.removeListener('readable', this.onReadable);
      socket.destroy();
    }
    callback(error);
  }

  /** pg's call: the server refused the copy, or the connection failed. */
  handleError(error: Error): void {
    this.destroy(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {}

  private byteAt(offset: number): number {
    while (offset >= this.chunkStart + this.chunks[this.chunkIndex]!.length) {
      this.chunkStart += this.chunks[this.chunkIndex]!.length;
      this.chunkIndex++;
    }
    return this.chunks[this.chunkIndex]![offset - this.chunkStart]!;
  }

  /** The big-endian length at `offset`, which counts itself but not the type byte; moves nothing. */
  private lengthAt(offset: number): number {
    const chunk = this.chunks[this.chunkIndex]!;
    const local = offset - this.chunkStart;
    if (local + 4 <= chunk.length) return chunk.readUInt32BE(local);
    // Split between chunks: rare, so read byte by byte.
    let length = 0;
    let index = this.chunkIndex;
    let start = this.chunkStart;
    for (let at = offset; at < offset + 4; at++) {
      while (at >= start + this.chunks[index]!.length) start += this.chunks[index++]!.length;
      length = length * 256 + this.chunks[index]![at - start]!;
    }
    return length;
  }
}
