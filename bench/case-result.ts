// What one case yields, as the JSON under bench/results/ holds it: every measured run and the
// summaries the tables are made of.
import type { Provider } from '../src/prisma/database-url.ts';

export type Operation = 'backup' | 'restore';
/** The product's runs: plain archives, and encrypted ones (`….tar.gz.enc`). */
export type ProductTool = 'product' | 'encrypted';
export type Tool = ProductTool | 'baseline';

export interface Measurement {
  round: number;
  operation: Operation;
  tool: Tool;
  command: string;
  wallMs: number;
  /** GNU time's "Maximum resident set size", summed over a pipeline's stages. */
  peakKiB: number;
  peakKiBByStage: number[];
  rowsPerSecond: number;
  /** What the backup wrote (the restore's input for restores). */
  archiveBytes: number;
  /** The product's own time for the operation, without Node start-up and module loading. */
  inProcessMs?: number;
  /** Encrypted runs: the key derivation (scrypt; for a restore, with the header read) within inProcessMs. */
  keyMs?: number;
  /** SHA-256 of the source under src/ when the run ended: each child loads the tree as it is then. */
  srcDigest: string;
  /** 1-minute load average just before the run: other work on the machine shows here. */
  loadAverage: number;
}

export interface Summary {
  product: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  baseline: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  ratio: { time: number; size: number; memory: number };
}

/** The product's encrypted runs against its plain ones of the same case. */
export interface EncryptionSummary {
  plain: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  encrypted: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number; keyMs: number };
  ratio: { time: number; size: number; memory: number };
}

export interface CaseResult {
  provider: Provider;
  items: number;
  rows: number;
  tables: { name: string; rows: number }[];
  seedMs: number;
  runs: Measurement[];
  summary: Record<Operation, Summary>;
  /** Null when the run was made with --no-encryption. */
  encryption: Record<Operation, EncryptionSummary> | null;
}
