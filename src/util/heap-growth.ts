// How far V8 lets the JavaScript heap grow between full collections. A large restore allocates
// batch after batch of short-lived rows over a small live set; a fixed factor keeps the heap near
// what is live, in the same wall time (docs/PERFORMANCE.md, "Measurements behind the code").
import { setFlagsFromString } from 'node:v8';

/**
 * The heap may grow by this much over what the last full collection kept, then V8 collects.
 * V8's own choice is a factor between 1.1 and 4, leaning high while full collections look
 * expensive next to the work between them, so garbage piled up far above the live set.
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Call once, first thing in the process. V8 reads this flag each time it sets the next
 * collection's limit, so it takes effect at the first full collection after the call.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
