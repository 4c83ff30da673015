// The small REST surface (`/api/v1/backups`), thin over BackupService, for scripts and curl;
// and `/metrics`, for Prometheus.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AppError,
  BackupFailedError,
  InsufficientSpaceError,
  InvalidArchiveError,
  NotFoundError,
  ValidationError,
  WrongPassphraseError,
} from '../core/errors.ts';
import type { AuditLog } from '../modules/access/audit-log.ts';
import { actorOf, roleOf, type Authentication } from '../modules/access/principal.ts';
import { downloadPath, type Backup } from '../modules/backups/catalog.ts';
import type { BackupService } from '../modules/backups/service.ts';
import { durationMs, jobKindOf, startedBy, type Job, type JobHistory } from '../modules/jobs/job-history.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { corsOriginOf, isAllowedOrigin } from './origin.ts';

/** A JSON body larger than this is refused without being read. */
const MAX_JSON_BODY_BYTES = 64 * 1024;

export interface RestDeps {
  backups: BackupService;
  jobs: Pick<JobHistory, 'list'>;
  store: BackupStore;
  /** CORS_ORIGINS: foreign origins that may call the API and read its replies. */
  corsOrigins: readonly string[];
  /** UPLOAD_MAX_BYTES: the largest archive POST /api/v1/uploads takes. */
  uploadMaxBytes: number;
  /** Who sends the request, checked once by the caller. */
  auth: Authentication;
  address: string | null;
  audit: AuditLog;
  /** What GET /metrics serves (modules/metrics/metrics.ts). */
  metrics: { readonly contentType: string; text(): Promise<string> };
}

/** Who may call a route: any account or token (viewer), ADMIN only, or also the setup code (first run). */
type Need = 'viewer' | 'admin' | 'viewerOrFirstRun';

/** Every route and who may call it; the guard test walks these through /openapi.json. */
export const REST_ACCESS: Record<string, Need> = {
  'GET /api/v1/backups': 'viewerOrFirstRun',
  'POST /api/v1/backups': 'admin',
  'GET /api/v1/backups/{id}': 'viewer',
  'DELETE /api/v1/backups/{id}': 'admin',
  'GET /api/v1/backups/{id}/download': 'admin',
  'POST /api/v1/uploads': 'admin',
  // A scraper's credentials: an API token with the VIEWER role.
  'GET /metrics': 'viewer',
  'GET /api/v1/jobs': 'viewer',
};

/** Handles the request and returns true, or returns false when the path is not ours. */
export async function handleRest(req: IncomingMessage, res: ServerResponse, deps: RestDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const metrics = url.pathname === '/metrics';
  const uploads = /^\/api\/v1\/uploads\/?$/.test(url.pathname);
  const jobs = /^\/api\/v1\/jobs\/?$/.test(url.pathname);
  const match = uploads || metrics || jobs ? null : /^\/api\/v1\/backups(?:\/([^/]+)(\/download)?)?\/?$/.exec(url.pathname);
  if (!match && !uploads && !metrics && !jobs) return false;
  const id = match?.[1] === undefined ? undefined : safeDecode(match[1]);
  const download = Boolean(match?.[2]);
  const origin = req.headers.origin;
  const corsOrigin = corsOriginOf(origin, deps.corsOrigins);
  if (corsOrigin) {
    res.setHeader('access-control-allow-origin', corsOrigin);
    res.setHeader('vary', 'Origin');
  }
  // A page on another site must not change anything, nor read an archive: refused before anything runs.
  const readsMetadata = req.method === 'GET' && !download;
  if (!readsMetadata && !isAllowedOrigin(origin, req.headers.host, deps.corsOrigins)) {
    json(res, 403, { error: { type: 'ForeignOrigin', message: `requests from ${origin} are refused (see CORS_ORIGINS)` } });
    return true;
  }
  if (req.method === 'OPTIONS' && corsOrigin) {
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '600',
      'content-length': '0',
    });
    return (res.end(), true);
  }
  const route = metrics
    ? `${req.method} /metrics`
    : uploads
      ? `${req.method} /api/v1/uploads`
      : jobs
        ? `${req.method} /api/v1/jobs`
        : `${req.method} /api/v1/backups${id === undefined ? '' : '/{id}'}${download ? '/download' : ''}`;
  // A method no route has still needs credentials before it learns even that (405).
  const need = REST_ACCESS[route] ?? 'viewer';
  // Changes and downloads are audited; reads are not.
  const audited = need === 'admin';
  const audit = (outcome: 'SUCCESS' | 'FAILURE' | 'DENIED', detail: string | null) =>
    deps.audit.record({ actor: actorOf(deps.auth.principal), action: route, target: id ?? null, address: deps.address, outcome, detail });
  const refusal = refusalOf(deps.auth, need, route);
  if (refusal) {
    if (audited) await audit('DENIED', refusal.message);
    if (refusal.status === 401) res.setHeader('www-authenticate', 'Bearer realm="backup-control-plane"');
    json(res, refusal.status, { error: { type: refusal.type, message: refusal.message } });
    return true;
  }
  try {
    const handled = await serve();
    if (audited && res.statusCode < 400) await audit('SUCCESS', null);
    return handled;
  } catch (error) {
    if (audited) await audit('FAILURE', (error as Error).message);
    if (!(error instanceof AppError)) throw error;
    json(res, statusFor(error), { error: { type: error.name, message: error.message } });
    return true;
  }

  async function serve(): Promise<boolean> {
    if (metrics) {
      if (req.method !== 'GET') return (methodNotAllowed(res, 'GET'), true);
      const text = await deps.metrics.text();
      res.writeHead(200, { 'content-type': deps.metrics.contentType, 'content-length': Buffer.byteLength(text) });
      return (res.end(text), true);
    }
    if (uploads) {
      if (req.method !== 'POST') return (methodNotAllowed(res, 'POST'), true);
      return uploadArchive(req, res, deps);
    }
    if (jobs) {
      if (req.method !== 'GET') return (methodNotAllowed(res, 'GET'), true);
      const kind = oneOf(url.searchParams, 'kind', ['BACKUP', 'RESTORE'] as const);
      const status = oneOf(url.searchParams, 'status', ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const);
      const limit = integerIn(url.searchParams, 'limit', { min: 1, max: MAX_JOBS, fallback: DEFAULT_JOBS });
      return (json(res, 200, { jobs: (await deps.jobs.list({ kind, status, limit })).map(describeJob) }), true);
    }
    if (id === undefined) {
      if (req.method === 'GET') return (json(res, 200, { backups: (await deps.backups.list()).map(describe) }), true);
      if (req.method === 'POST') {
        // A form or text/plain body is what a cross-site page can send without a preflight.
        if (!isJsonOrEmpty(req)) {
          json(res, 415, { error: { type: 'UnsupportedMediaType', message: 'send the request body as application/json' } });
          return true;
        }
        const body = await readJson(req);
        const backup = await deps.backups.create({
          kind: 'manual',
          includeMedia: optionalBoolean(body, 'includeMedia'),
          note: optionalString(body, 'note'),
          passphrase: optionalString(body, 'passphrase'),
          trigger: 'api',
          actor: actorOf(deps.auth.principal),
        });
        return (json(res, 201, describe(backup)), true);
      }
      return (methodNotAllowed(res, 'GET, POST'), true);
    }
    if (id === null) throw new NotFoundError('backup', match![1]!);
    if (download) {
      if (req.method !== 'GET') return (methodNotAllowed(res, 'GET'), true);
      const backup = await deps.backups.require(id);
      res.writeHead(200, {
        'content-type': backup.encrypted ? 'application/octet-stream' : 'application/gzip',
        'content-length': String(backup.sizeBytes),
        'content-disposition': `attachment; filename="${backup.fileName}"`,
      });
      await pipeline(deps.store.read(backup.fileName), res);
      return true;
    }
    if (req.method === 'GET') return (json(res, 200, describe(await deps.backups.require(id))), true);
    if (req.method === 'DELETE') return (json(res, 200, { deletedId: await deps.backups.delete(id) }), true);
    return (methodNotAllowed(res, 'GET, DELETE'), true);
  }
}

/**
 * An archive as the raw request body, streamed to disk as it arrives (no multipart parsing,
 * nothing held in memory). Its type is not one a cross-site page can send without a preflight;
 * its length must be declared, so that one over UPLOAD_MAX_BYTES is refused unread.
 */
async function uploadArchive(req: IncomingMessage, res: ServerResponse, deps: RestDeps): Promise<boolean> {
  if (!/^application\/(octet-stream|gzip)\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    json(res, 415, {
      error: { type: 'UnsupportedMediaType', message: 'send the archive as application/octet-stream or application/gzip' },
    });
    return true;
  }
  const declared = req.headers['content-length'];
  if (declared === undefined || !/^\d+$/.test(declared)) {
    res.setHeader('connection', 'close');
    json(res, 411, { error: { type: 'LengthRequired', message: 'send a content-length with the archive' } });
    return true;
  }
  const size = Number(declared);
  if (size > deps.uploadMaxBytes) {
    res.setHeader('connection', 'close');
    json(res, 413, {
      error: {
        type: 'PayloadTooLarge',
        message: `the archive is ${size} bytes; uploads are limited to ${deps.uploadMaxBytes} (UPLOAD_MAX_BYTES)`,
      },
    });
    return true;
  }
  const passphrase = req.headers['x-backup-passphrase'];
  const backup = await deps.backups.upload(
    { size, stream: () => Readable.toWeb(req) as ReadableStream<Uint8Array> },
    typeof passphrase === 'string' ? passphrase : null,
  );
  json(res, 201, describe(backup));
  return true;
}

function refusalOf(auth: Authentication, need: Need, route: string): { status: number; type: string; message: string } | null {
  const role = roleOf(auth.principal);
  if (need === 'viewerOrFirstRun' && auth.principal?.kind === 'setupCode') return null;
  if (role === 'ADMIN' || (role === 'VIEWER' && need !== 'admin')) return null;
  if (!auth.principal) {
    const message = auth.problem ?? 'sign in first: send Authorization: Bearer <token> (from createApiToken or login)';
    return { status: 401, type: 'Unauthenticated', message };
  }
  const who = auth.principal.kind === 'setupCode' ? 'the setup code' : `the ${role} role`;
  return { status: 403, type: 'Forbidden', message: `${who} may not call ${route}` };
}

export function describe(backup: Backup) {
  return {
    id: backup.id,
    fileName: backup.fileName,
    kind: backup.kind,
    createdAt: backup.createdAt.toISOString(),
    sizeBytes: backup.sizeBytes,
    encrypted: backup.encrypted,
    includesMedia: backup.summary?.includesMedia ?? null,
    appVersion: backup.summary?.appVersion ?? null,
    schemaVersion: backup.summary?.schemaVersion ?? null,
    tables: backup.manifest?.tables.map((t) => ({ name: t.name, rows: t.rows })) ?? [],
    downloadUrl: downloadPath(backup.id),
    problem: backup.problem,
  };
}

export function describeJob(job: Job) {
  const backup = 'backupKind' in job;
  return {
    id: job.id,
    kind: jobKindOf(job),
    status: job.status,
    startedBy: startedBy(job),
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    durationMs: durationMs(job),
    sizeBytes: job.sizeBytes,
    backupId: backup ? job.fileName : job.backupId,
    ...(backup ? { backupKind: job.backupKind } : {}),
    error: job.error,
  };
}

/** The jobs one request lists: the newest 100 unless `limit` asks for up to 1,000. */
const DEFAULT_JOBS = 100;
const MAX_JOBS = 1000;

function integerIn(params: URLSearchParams, name: string, range: { min: number; max: number; fallback: number }): number {
  const value = params.get(name);
  if (value === null || value === '') return range.fallback;
  if (!/^\d+$/.test(value) || Number(value) < range.min || Number(value) > range.max) {
    throw new ValidationError(name, `${name} must be a whole number from ${range.min} to ${range.max}`);
  }
  return Number(value);
}

/** A query parameter that must be one of `values`, or absent. */
function oneOf<T extends string>(params: URLSearchParams, name: string, values: readonly T[]): T | null {
  const value = params.get(name);
  if (value === null || value === '') return null;
  if (!(values as readonly string[]).includes(value)) throw new ValidationError(name, `${name} must be one of ${values.join(', ')}`);
  return value as T;
}

function statusFor(error: AppError): number {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ValidationError) return 400;
  if (error instanceof WrongPassphraseError) return 403;
  if (error instanceof InsufficientSpaceError) return 507;
  if (error instanceof InvalidArchiveError) return 422;
  if (error instanceof BackupFailedError) return 500;
  return 409;
}

/** A malformed escape is not a name any backup can have. */
function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function isJsonOrEmpty(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type === undefined) return req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;
  return /^application\/json\s*(;|$)/i.test(type);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY_BYTES) throw new ValidationError('body', 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ValidationError('body', 'the request body must be a JSON object');
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(field, `${field} must be true or false`);
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  return value;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  json(res, 405, { error: { type: 'MethodNotAllowed', message: `use ${allow}` } });
}
