// A FIFO of buffers that hands out exact-size slices, for the ciphers that cut a stream
// into fixed-size chunks without re-concatenating everything queued.
export class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  /** Queues `buffer` (kept, not copied). */
  push(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.parts.push(buffer);
    this.length += buffer.length;
  }

  /** The next `size` bytes, as a new buffer; a RangeError when fewer are queued. */
  take(size: number): Buffer {
    if (size > this.length) throw new RangeError('not enough bytes queued');
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const head = this.parts[0]!;
      const used = Math.min(head.length, size - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.parts.shift();
      else this.parts[0] = head.subarray(used);
    }
    this.length -= size;
    return out;
  }
}
