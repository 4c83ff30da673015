// The OpenAPI description served at /openapi.json, for the REST surface only.
import { APP_VERSION } from '../core/version.ts';

const backupSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The archive file name.' },
    fileName: { type: 'string' },
    kind: { type: 'string', enum: ['scheduled', 'manual', 'pre-restore', 'pre-upgrade', 'uploaded'] },
    createdAt: { type: 'string', format: 'date-time' },
    sizeBytes: { type: 'integer' },
    encrypted: { type: 'boolean' },
    includesMedia: { type: 'boolean', nullable: true },
    appVersion: { type: 'string', nullable: true },
    schemaVersion: { type: 'string', nullable: true },
    tables: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, rows: { type: 'integer' } } } },
    downloadUrl: { type: 'string' },
    problem: { type: 'string', nullable: true },
  },
};

const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['BACKUP', 'RESTORE'] },
    status: { type: 'string', enum: ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] },
    startedBy: { type: 'string', nullable: true, description: 'A username, `token:<name>`, or `schedule`.' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: 'string', format: 'date-time', nullable: true },
    finishedAt: { type: 'string', format: 'date-time', nullable: true },
    durationMs: { type: 'integer', nullable: true },
    sizeBytes: { type: 'integer', nullable: true, description: 'The archive written (a backup) or restored (a restore).' },
    backupId: { type: 'string', nullable: true, description: 'The backup written (once done) or restored.' },
    backupKind: { type: 'string', enum: ['scheduled', 'manual', 'pre-restore', 'pre-upgrade', 'uploaded'], description: 'Backups only.' },
    error: { type: 'string', nullable: true },
  },
};

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        message: { type: 'string' },
        errorId: { type: 'string', description: 'An unexpected error (500) only: finds its line in the server log.' },
      },
    },
  },
};

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The backup id (its file name).' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema } } });
/** Every /api/v1 route answers these two without credentials or without the role. */
const accessResponses = {
  401: errorResponse('No credentials, or a session or token that is not valid (expired, revoked)'),
  403: errorResponse('The role may not (VIEWER: reads only), or a foreign origin'),
};

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'Backup control plane',
    version: APP_VERSION,
    description: 'Backups of a Prisma-managed application. The GraphQL API at /graphql offers everything here and more.',
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API token (createApiToken) or a session token (login); browsers send the session cookie instead.',
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/backups': {
      get: {
        summary: 'List backups, newest first',
        description: 'VIEWER or ADMIN; on a fresh install with no account, also the setup code (the first-run restore).',
        responses: {
          ...accessResponses,
          200: {
            description: 'The backups',
            content: {
              'application/json': { schema: { type: 'object', properties: { backups: { type: 'array', items: backupSchema } } } },
            },
          },
        },
      },
      post: {
        summary: 'Create a manual backup now',
        description: 'ADMIN.',
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  includeMedia: { type: 'boolean' },
                  note: { type: 'string' },
                  passphrase: { type: 'string', minLength: 8, description: 'encrypts the archive (….tar.gz.enc)' },
                },
              },
            },
          },
        },
        responses: {
          201: { description: 'The new backup', content: { 'application/json': { schema: backupSchema } } },
          400: errorResponse('Invalid input'),
          401: accessResponses[401],
          403: errorResponse("The VIEWER role, or a browser request from a foreign origin (neither the server's own nor in CORS_ORIGINS)"),
          415: errorResponse('The body is not application/json'),
          500: errorResponse('The backup could not be taken'),
          507: errorResponse('Not enough free space'),
        },
      },
    },
    '/api/v1/backups/{id}': {
      get: {
        summary: 'One backup',
        description: 'VIEWER or ADMIN.',
        parameters: [idParameter],
        responses: {
          ...accessResponses,
          200: { description: 'The backup', content: { 'application/json': { schema: backupSchema } } },
          404: errorResponse('No such backup'),
        },
      },
      delete: {
        summary: 'Delete a backup',
        description: 'ADMIN.',
        parameters: [idParameter],
        responses: { 200: { description: 'Deleted' }, ...accessResponses, 404: errorResponse('No such backup') },
      },
    },
    '/api/v1/backups/{id}/download': {
      get: {
        summary: 'Download the archive',
        description: 'ADMIN: an archive holds the whole database and the secrets.',
        parameters: [idParameter],
        responses: {
          200: {
            description: 'The archive as stored: a tar.gz, or an encrypted .tar.gz.enc',
            content: { 'application/gzip': {}, 'application/octet-stream': {} },
          },
          401: accessResponses[401],
          403: errorResponse('The VIEWER role, or a foreign origin: an archive is not readable cross-site'),
          404: errorResponse('No such backup'),
        },
      },
    },
    '/api/v1/jobs': {
      get: {
        summary: 'List backup and restore jobs, newest first',
        description:
          'VIEWER or ADMIN. `kind` (BACKUP, RESTORE) and `status` narrow the list; the newest `limit` (100 unless asked) are listed.',
        parameters: [
          { name: 'kind', in: 'query', required: false, schema: { type: 'string', enum: ['BACKUP', 'RESTORE'] } },
          { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          ...accessResponses,
          200: {
            description: 'The jobs',
            content: { 'application/json': { schema: { type: 'object', properties: { jobs: { type: 'array', items: jobSchema } } } } },
          },
          400: errorResponse('An unknown kind or status, or a limit out of range'),
        },
      },
    },
    '/api/v1/uploads': {
      post: {
        summary: 'Upload an archive',
        description:
          'ADMIN. The archive is the request body, streamed to disk as it arrives, so its size is bounded by UPLOAD_MAX_BYTES only. It is stored as kind `uploaded` once every check has passed (hashes, and a trial restore of its rows into a scratch database).',
        parameters: [
          {
            name: 'x-backup-passphrase',
            in: 'header',
            required: false,
            schema: { type: 'string' },
            description: 'For an encrypted archive: with it, everything inside is checked before it is stored.',
          },
        ],
        requestBody: { required: true, content: { 'application/octet-stream': {}, 'application/gzip': {} } },
        responses: {
          201: { description: 'The stored backup', content: { 'application/json': { schema: backupSchema } } },
          400: errorResponse('Invalid input (a passphrase that is too short)'),
          ...accessResponses,
          411: errorResponse('No content-length'),
          413: errorResponse('Larger than UPLOAD_MAX_BYTES: refused before it is read'),
          415: errorResponse('Not application/octet-stream or application/gzip'),
          422: errorResponse('Not a valid archive, or rows that would not load'),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        description:
          'VIEWER or ADMIN: a scraper sends an API token with the VIEWER role as its bearer token. The text format: backups (last success per kind, durations, sizes, failures), restores (in progress, durations, failures), verifies, webhook deliveries, and the process.',
        responses: {
          200: { description: "Prometheus's text exposition format", content: { 'text/plain; version=0.0.4; charset=utf-8': {} } },
          ...accessResponses,
        },
      },
    },
    '/readyz': {
      get: {
        summary: 'Whether scheduled backups are happening',
        description:
          "Open to anyone. 503 while the latest scheduled backup failed, or when none has succeeded within twice the schedule's interval; 200 otherwise (and when the schedule is off).",
        security: [],
        responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready, with the reason (no error text)' } },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness and database check',
        description: 'Open to anyone: it tells nothing but whether the databases answer.',
        security: [],
        responses: { 200: { description: 'Healthy' }, 503: { description: 'A database is unreachable' } },
      },
    },
  },
};
