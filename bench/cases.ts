// One case, a size on a database: a freshly seeded example library, then rounds that measure
// the product against the baseline (bench/baselines.ts) and, unless --no-encryption, the
// product encrypted beside plain, for the "encryption on costs at most 10 % more time".
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrateExampleDatabase } from '../src/examples/seed.ts';
import { parseDatabaseUrl, type Provider } from '../src/prisma/database-url.ts';
import { BenchError } from './bench-error.ts';
import { baselineBackup, baselineRestore } from './baselines.ts';
import type { CaseResult, Measurement, ProductTool } from './case-result.ts';
import { cleanupFrom, cleanupMark, onCleanup } from './cleanup.ts';
import { srcDigest } from './code-digest.ts';
import { createPgDatabase, createSqliteFile, pgUrl, removeSqliteFile } from './databases.ts';
import { fmtBytes, fmtKiB, fmtMs } from './format.ts';
import { childEnv, measureProductBackup, measureProductRestore, productEnv, type WrittenBackup } from './product.ts';
import { checkRestored, checkSameContent } from './restore-checks.ts';
import { prepareSource } from './source.ts';
import { summarize, summarizeEncryption, sum } from './statistics.ts';

/**
 * Measures, alternating product and baseline in each round:
 *   backup:  the product (full backup, gzip)  vs  `sqlite3 DB .dump | gzip`  /  `pg_dump -Fc`
 *   restore: the product (one checked pass)  vs  `gunzip -c | sqlite3`    /  `pg_restore -j 1`
 * Every restore is checked afterwards, untimed.
 */
export async function runCase(provider: Provider, items: number, repeat: number, encryption: boolean): Promise<CaseResult> {
  const mark = cleanupMark();
  const work = await mkdtemp(path.join(os.tmpdir(), `bcp-bench-${provider}-`));
  onCleanup(() => rm(work, { recursive: true, force: true }));
  try {
    const { source, seedMs } = await prepareSource(provider, items, work);
    const runs: Measurement[] = [];
    let rows = 0;
    let tables: { name: string; rows: number }[] = [];
    const record = async (m: Omit<Measurement, 'rowsPerSecond' | 'srcDigest'>) => {
      const measurement = { ...m, rowsPerSecond: rows / (m.wallMs / 1000), srcDigest: await srcDigest() };
      runs.push(measurement);
      console.log(
        `   ${m.operation.padEnd(7)} ${m.tool.padEnd(9)} ${fmtMs(m.wallMs).padStart(8)}  peak ${fmtKiB(m.peakKiB).padStart(9)}  ${fmtBytes(m.archiveBytes).padStart(9)}  ${m.command}`,
      );
    };

    /** The product's backup, plain or encrypted, measured and recorded. */
    const productBackup = async (round: number, roundDir: string, tool: ProductTool): Promise<WrittenBackup> => {
      const load = os.loadavg()[0]!;
      const { timed, written } = await measureProductBackup(
        `${tool} backup`,
        roundDir,
        path.join(roundDir, `archives-${tool}`),
        childEnv(source.env, tool),
      );
      if (rows !== 0 && written.rows !== rows)
        throw new BenchError(`the ${tool} backup holds ${written.rows} rows, an earlier one ${rows}`);
      rows = written.rows;
      tables = written.tables;
      await record({
        round,
        operation: 'backup',
        tool,
        command: tool === 'encrypted' ? 'ArchiveSealer.create + writeBackup (full, gzip, age)' : 'writeBackup (full, gzip)',
        wallMs: timed.wallMs,
        peakKiB: sum(timed.peakKiBByStage),
        peakKiBByStage: timed.peakKiBByStage,
        archiveBytes: written.archiveBytes,
        inProcessMs: written.operationMs,
        ...(tool === 'encrypted' ? { keyMs: written.keyMs } : {}),
        loadAverage: load,
      });
      return written;
    };

    /**
     * The product's restore of what `written` holds into an empty database migrated to the
     * same schema, measured and recorded, then checked (untimed) and dropped.
     */
    const productRestore = async (round: number, roundDir: string, tool: ProductTool, written: WrittenBackup): Promise<void> => {
      let target: string;
      let dropTarget: () => Promise<void>;
      let url: string;
      if (provider === 'sqlite') {
        target = path.join(roundDir, `restore-${tool}.db`);
        createSqliteFile(target);
        url = `file:${target}`;
        dropTarget = () => removeSqliteFile(target);
      } else {
        const db = await createPgDatabase();
        target = db.name;
        url = pgUrl(db.name);
        dropTarget = db.drop;
      }
      await migrateExampleDatabase(parseDatabaseUrl(url));
      const env = productEnv(path.join(work, 'data'), url);
      const load = os.loadavg()[0]!;
      const { timed, restored } = await measureProductRestore(`${tool} restore`, roundDir, written.archive, childEnv(env, tool));
      if (restored.rows !== rows) throw new BenchError(`the ${tool} restore loaded ${restored.rows} rows, the backup has ${rows}`);
      await record({
        round,
        operation: 'restore',
        tool,
        command:
          tool === 'encrypted'
            ? 'unlockArchive + readManifest + replaceData(checkedArchiveSource)'
            : 'readManifest + replaceData(checkedArchiveSource)',
        wallMs: timed.wallMs,
        peakKiB: sum(timed.peakKiBByStage),
        peakKiBByStage: timed.peakKiBByStage,
        archiveBytes: written.archiveBytes,
        inProcessMs: restored.operationMs,
        ...(tool === 'encrypted' ? { keyMs: restored.keyMs } : {}),
        loadAverage: load,
      });
      await checkRestored(`the ${tool} restore`, provider, target, tables);
      // The check's own backup is a plain one: it compares the tables' lines, not the archives.
      await checkSameContent(roundDir, env, written.tables);
      await dropTarget();
    };

    for (let round = 1; round <= repeat; round++) {
      const roundDir = path.join(work, `round-${round}`);
      await mkdir(roundDir);
      // Plain and encrypted take turns going first, so that neither always meets the
      // caches (or the machine's other work) the other left behind.
      const productTools: ProductTool[] = !encryption ? ['product'] : round % 2 === 1 ? ['product', 'encrypted'] : ['encrypted', 'product'];

      // Backup: the product (plain and encrypted), then the baseline.
      const written = new Map<ProductTool, WrittenBackup>();
      for (const tool of productTools) written.set(tool, await productBackup(round, roundDir, tool));

      let load = os.loadavg()[0]!;
      const dump = await baselineBackup(provider, source.where, roundDir);
      const dumpBytes = (await stat(dump.dumpFile)).size;
      await record({
        round,
        operation: 'backup',
        tool: 'baseline',
        command: dump.command,
        wallMs: dump.timed.wallMs,
        peakKiB: sum(dump.timed.peakKiBByStage),
        peakKiBByStage: dump.timed.peakKiBByStage,
        archiveBytes: dumpBytes,
        loadAverage: load,
      });

      // Restore: the product (plain and encrypted, each from its own archive) into an empty
      // database migrated to the same schema, then the baseline into an empty database (its
      // dump creates the schema itself).
      for (const tool of productTools) await productRestore(round, roundDir, tool, written.get(tool)!);

      load = os.loadavg()[0]!;
      const restore = await baselineRestore(provider, dump.dumpFile, roundDir);
      await record({
        round,
        operation: 'restore',
        tool: 'baseline',
        command: restore.command,
        wallMs: restore.timed.wallMs,
        peakKiB: sum(restore.timed.peakKiBByStage),
        peakKiBByStage: restore.timed.peakKiBByStage,
        archiveBytes: dumpBytes,
        loadAverage: load,
      });
      await checkRestored('the baseline restore', provider, restore.target, tables);
      await restore.drop();
      await rm(roundDir, { recursive: true, force: true });
    }

    return {
      provider,
      items,
      rows,
      tables,
      seedMs,
      runs,
      summary: { backup: summarize(runs, rows, 'backup'), restore: summarize(runs, rows, 'restore') },
      encryption: encryption
        ? { backup: summarizeEncryption(runs, rows, 'backup'), restore: summarizeEncryption(runs, rows, 'restore') }
        : null,
    };
  } finally {
    // The case's databases and files go now, not at the end: a 1,000,000-item library is big.
    await cleanupFrom(mark);
  }
}
