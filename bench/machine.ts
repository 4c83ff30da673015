// The machine a run was made on, for the JSON and the report's first line: CPU, memory, OS,
// Node and the database tools' versions.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Provider } from '../src/prisma/database-url.ts';
import { psql } from './databases.ts';
import { runChild } from './processes.ts';

async function commandVersion(command: string, args: string[]): Promise<string> {
  try {
    return (await runChild(command, command, args)).stdout.trim().split('\n')[0]!;
  } catch {
    return 'unavailable';
  }
}

export async function machineInfo(providers: Provider[]) {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpu,
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite3: providers.includes('sqlite') ? (await commandVersion('sqlite3', ['--version'])).split(' ')[0]! : null,
    pgDump: providers.includes('postgresql') ? await commandVersion('pg_dump', ['--version']) : null,
    postgresServer: providers.includes('postgresql') ? await psql('SHOW server_version').catch(() => 'unavailable') : null,
    loadAverageAtStart: os.loadavg(),
  };
}

export type Machine = Awaited<ReturnType<typeof machineInfo>>;

export function machineLine(machine: Machine): string {
  const parts = [
    `${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GiB RAM`,
    machine.os,
    `Node ${machine.node}`,
    machine.sqlite3 ? `SQLite ${machine.sqlite3}` : null,
    machine.postgresServer ? `PostgreSQL ${machine.postgresServer.split(' ')[0]} (${machine.pgDump})` : null,
  ];
  return parts.filter(Boolean).join('; ');
}
