// A case's summaries from its runs: medians of time and size, the highest peak memory, and the
// ratios the tables and the targets judge.
import type { EncryptionSummary, Measurement, Operation, Summary, Tool } from './case-result.ts';

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One tool's runs of an operation; `rows` is the case's row count, for rows per second. */
function of(runs: Measurement[], rows: number, operation: Operation, tool: Tool) {
  const selected = runs.filter((r) => r.operation === operation && r.tool === tool);
  const wallMs = median(selected.map((r) => r.wallMs));
  return {
    wallMs,
    peakKiB: Math.max(...selected.map((r) => r.peakKiB)),
    archiveBytes: median(selected.map((r) => r.archiveBytes)),
    rowsPerSecond: rows / (wallMs / 1000),
  };
}

/** The product (plain) against the baseline. */
export function summarize(runs: Measurement[], rows: number, operation: Operation): Summary {
  const product = of(runs, rows, operation, 'product');
  const baseline = of(runs, rows, operation, 'baseline');
  return {
    product,
    baseline,
    ratio: {
      time: product.wallMs / baseline.wallMs,
      size: product.archiveBytes / baseline.archiveBytes,
      memory: product.peakKiB / baseline.peakKiB,
    },
  };
}

/** The product encrypted against the product plain. */
export function summarizeEncryption(runs: Measurement[], rows: number, operation: Operation): EncryptionSummary {
  const plain = of(runs, rows, operation, 'product');
  const encrypted = of(runs, rows, operation, 'encrypted');
  const keyMs = median(runs.filter((r) => r.operation === operation && r.tool === 'encrypted').map((r) => r.keyMs!));
  return {
    plain,
    encrypted: { ...encrypted, keyMs },
    ratio: {
      time: encrypted.wallMs / plain.wallMs,
      size: encrypted.archiveBytes / plain.archiveBytes,
      memory: encrypted.peakKiB / plain.peakKiB,
    },
  };
}
