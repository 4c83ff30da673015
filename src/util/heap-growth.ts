// How far V8 lets the JavaScript heap grow between full collections. By default it picks
// a factor between 1.1 and 4 of what survived the last one, leaning high while full
// collections look expensive next to the work between them. A large restore allocates
// batch after batch of short-lived rows over a small live set, so the heap swelled to
// about four times that set before V8 collected it: a 1,000,000-item SQLite restore
// peaked at 205-220 MB of RSS, most of it garbage. A fixed factor keeps the heap near
// what is live (157-166 MB at the same peak, in the same wall time).
import { setFlagsFromString } from 'node:v8';

/** The heap may grow by this much over what the last full collection kept, then V8 collects. */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Call once, first thing in the process. V8 reads this flag each time it sets the next
 * collection's limit, so it takes effect at the first full collection after the call.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
