// Reads the environment once, at start-up, into a typed configuration. A wrong value is
// a ConfigError naming the variable; main.ts prints it as one line and exits.
import { isIP } from 'node:net';
import path from 'node:path';
import { DatabaseUrlError, parseDatabaseUrl, type DatabaseLocation } from '../prisma/database-url.ts';
import { newInstanceId } from '../util/instance-id.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { PROJECT_ROOT } from './project-root.ts';

export { PROJECT_ROOT };

export const EXAMPLE_APP_DIR = path.join(PROJECT_ROOT, 'examples', 'media-library');

export interface TargetConfig {
  location: DatabaseLocation;
  schemaPath: string;
  migrationsDir: string;
  /** TARGET_MIGRATIONS was set: a folder that is not there is a wrong value, not an app without migrations. */
  migrationsDirFixed?: boolean;
  files: string[];
  name: string;
  /** The bundled example app: its files are created and its database seeded on first start. */
  isExample: boolean;
  /**
   * TARGET_MIGRATE=deploy: apply the target's pending migrations at start-up. Off by default:
   * the app owns its migrations (the bundled example, whose database this creates, is migrated always).
   */
  migrate?: 'off' | 'deploy';
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  backupDir: string;
  /** BACKUP_DIR was set: it wins over the backup folder setting. */
  backupDirFixed: boolean;
  /** This instance's name (host, pid, random tag): in the restore lease, scheduled runs, its scratch folder. */
  instanceId: string;
  /** This instance's own scratch space for staging, `$DATA_DIR/tmp/<instanceId>`: instances sharing DATA_DIR never touch each other's. */
  scratchDir: string;
  controlDatabase: DatabaseLocation;
  target: TargetConfig;
  /** Largest archive `uploadBackup` accepts. */
  uploadMaxBytes: number;
  /** Redis for pub/sub across instances; null keeps events in process. */
  redisUrl: string | null;
  /** Browser origins besides the server's own that may call it and read its replies (CORS_ORIGINS). */
  corsOrigins: string[];
  /** Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (TRUST_PROXY). */
  trustProxy: string[];
  /** The least severe log lines written (LOG_LEVEL). */
  logLevel: LogLevel;
  /** The waits between a webhook delivery's attempts; not an environment variable (tests shorten it). */
  webhookRetryDelaysMs: number[];
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const dir = (name: string, fallback: string) => path.resolve(cwd, value(name) ?? fallback);

  const host = value('HOST') ?? '127.0.0.1';
  const port = parsePort(value('PORT') ?? '4000');
  const dataDir = dir('DATA_DIR', './data');
  const backupDir = dir('BACKUP_DIR', path.join(dataDir, 'backups'));
  const controlDatabase = databaseUrl(
    'CONTROL_DATABASE_URL',
    value('CONTROL_DATABASE_URL') ?? `file:${path.join(dataDir, 'control.db')}`,
    cwd,
  );

  const exampleDir = path.join(dataDir, 'example');
  const targetLocation = databaseUrl(
    'TARGET_DATABASE_URL',
    value('TARGET_DATABASE_URL') ?? `file:${path.join(exampleDir, 'media-library.db')}`,
    cwd,
  );
  const isExample = value('TARGET_SCHEMA') === undefined;
  const schemaPath = isExample
    ? path.join(EXAMPLE_APP_DIR, targetLocation.provider, 'schema.prisma')
    : path.resolve(cwd, value('TARGET_SCHEMA')!);
  const schemaDir = schemaPath.endsWith('.prisma') ? path.dirname(schemaPath) : schemaPath;
  const migrationsDir = value('TARGET_MIGRATIONS') ? path.resolve(cwd, value('TARGET_MIGRATIONS')!) : path.join(schemaDir, 'migrations');
  const files = value('TARGET_FILES')
    ? value('TARGET_FILES')!
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map((item) => path.resolve(cwd, item))
    : isExample
      ? [path.join(exampleDir, 'config.toml'), path.join(exampleDir, 'secrets')]
      : [];
  const name = value('TARGET_NAME') ?? 'app';
  const migrate = value('TARGET_MIGRATE') ?? 'off';
  if (migrate !== 'off' && migrate !== 'deploy') throw new ConfigError('TARGET_MIGRATE', `must be "deploy" or "off", not "${migrate}"`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new ConfigError('TARGET_NAME', 'must be letters, digits, ".", "_" or "-" (it starts every archive name)');
  }

  const uploadMaxBytes = parseByteCount('UPLOAD_MAX_BYTES', value('UPLOAD_MAX_BYTES') ?? String(DEFAULT_UPLOAD_MAX_BYTES));
  const redisUrl = value('REDIS_URL') === undefined ? null : parseRedisUrl(value('REDIS_URL')!);
  const corsOrigins = value('CORS_ORIGINS') === undefined ? [] : parseOrigins('CORS_ORIGINS', value('CORS_ORIGINS')!);
  const trustProxy = value('TRUST_PROXY') === undefined ? [] : parseAddresses('TRUST_PROXY', value('TRUST_PROXY')!);
  const logLevel = value('LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, not "${logLevel}"`);
  const instanceId = newInstanceId();

  return {
    host,
    port,
    uploadMaxBytes,
    redisUrl,
    corsOrigins,
    trustProxy,
    logLevel: logLevel as LogLevel,
    webhookRetryDelaysMs: DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    dataDir,
    backupDir,
    backupDirFixed: value('BACKUP_DIR') !== undefined,
    instanceId,
    scratchDir: path.join(dataDir, 'tmp', instanceId),
    controlDatabase,
    target: {
      location: targetLocation,
      schemaPath,
      migrationsDir,
      migrationsDirFixed: value('TARGET_MIGRATIONS') !== undefined,
      files,
      name,
      isExample,
      migrate,
    },
  };
}

/** Five attempts in about a minute and a half: a receiver restarting is caught, a dead one given up on. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS = [1000, 4000, 16_000, 60_000];

/** Uploads are held in memory while the request is parsed, so the default stays modest. */
export const DEFAULT_UPLOAD_MAX_BYTES = 1024 ** 3;

function parseByteCount(variable: string, text: string): number {
  const bytes = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(bytes) || bytes < 1)
    throw new ConfigError(variable, `must be a number of bytes, not "${text}"`);
  return bytes;
}

function parseRedisUrl(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || !['redis:', 'rediss:'].includes(url.protocol) || !url.hostname) {
    throw new ConfigError('REDIS_URL', `must be a redis:// or rediss:// URL, not "${text}"`);
  }
  return text;
}

/** Exact origins only (scheme, host, port): a wildcard or a path would let more sites in than meant. */
function parseOrigins(variable: string, text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      let url: URL | null = null;
      try {
        url = new URL(item);
      } catch {
        // reported below
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== item) {
        throw new ConfigError(
          variable,
          `must be comma-separated origins such as https://admin.example.com (no path, no "*"), not "${item}"`,
        );
      }
      return item;
    });
}

/** Exact IP addresses: a proxy is trusted by the address it connects from, never by a header. */
function parseAddresses(variable: string, text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      if (isIP(item) === 0)
        throw new ConfigError(variable, `must be comma-separated IP addresses of your reverse proxies, such as 127.0.0.1, not "${item}"`);
      return item;
    });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new ConfigError('PORT', `must be a port number from 0 to 65535, not "${text}"`);
  return port;
}

function databaseUrl(variable: string, url: string, cwd: string): DatabaseLocation {
  try {
    return parseDatabaseUrl(url, cwd);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new ConfigError(variable, error.message);
    throw error;
  }
}
