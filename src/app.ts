// Wires configuration, databases, services and the HTTP + websocket server together.
// `buildApp` does the start-up checks; `start` listens; `stop` closes everything.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga } from 'graphql-yoga';
import type { Config } from './core/config.ts';
import { openBackupServices } from './backup-services.ts';
import type { ControlDatabase } from './control/control-db.ts';
import type { Context, Services } from './graphql/context.ts';
import { schema } from './graphql/schema/index.ts';
import { useGraphQLLimits } from './graphql/limits.ts';
import { useStreamingUploads } from './graphql/streaming-uploads.ts';
import { openApiDocument } from './http/openapi.ts';
import { corsOriginOf, isAllowedOrigin } from './http/origin.ts';
import { handleRest } from './http/rest.ts';
import { loadConsoleAssets } from './http/console-assets.ts';
import { asksForGraphiQL, serveGraphiQL } from './http/graphiql-page.ts';
import { bearerSecretOf, clearedSessionCookie, clientAddressOf, isHttps, sessionCookie } from './http/request-identity.ts';
import { attachGraphQLWebSocket } from './graphql-websocket.ts';
import { AccessService } from './modules/access/access-service.ts';
import { AuditLog } from './modules/access/audit-log.ts';
import { roleOf, type Authentication } from './modules/access/principal.ts';
import type { RestoreTopics } from './modules/restores/restore-progress.ts';
import type { BackupTopics } from './modules/backups/backup-jobs.ts';
import type { JobTopics } from './modules/job-signals.ts';
import { JobHistory } from './modules/jobs/job-history.ts';
import { JobCancellation } from './modules/jobs/job-cancellation.ts';
import { SystemService } from './modules/system/service.ts';
import { deployTargetMigrations, listenFailure, prepareStartup } from './startup.ts';
import { backUpBeforeUpgrade } from './modules/backups/pre-upgrade.ts';
import { openEventBus } from './events/event-bus.ts';
import { Scheduler } from './modules/schedule/scheduler.ts';
import { listAppliedMigrations } from './target/applied-migrations.ts';
import { APP_VERSION } from './core/version.ts';
import { logUnexpectedError } from './core/error-log.ts';
import { log, setLogLevel } from './core/logger.ts';
import { loadSecretKey } from './control/secret-box.ts';
import { Metrics } from './modules/metrics/metrics.ts';
import { WebhookService } from './modules/notifications/webhook-service.ts';
import { OperationLog } from './modules/operation-log.ts';
import { maskUnexpectedError } from './graphql/unexpected-error.ts';

/** A GraphQL request that is not an upload: far above any real document (Armor allows 1,000 tokens) with its variables. */
export const MAX_GRAPHQL_BODY_BYTES = 1024 * 1024;
/** Room in a multipart upload for the operations, the map and the boundaries around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** The header a non-JSON GraphQL request (a multipart upload) must carry: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export interface App {
  readonly services: Services;
  readonly config: Config;
  /** While no account exists: the one-time code that creates the first (also in $DATA_DIR/setup-code). */
  readonly setupCode: string | null;
  /** Listens on the configured host and port (0: any free port) and returns the base URL. */
  start(): Promise<string>;
  /** Stops scheduling (waiting for a running backup), then closes the server, the control database and the event bus. */
  stop(): Promise<void>;
}

export async function buildApp(config: Config): Promise<App> {
  setLogLevel(config.logLevel);
  // Redis first: a wrong REDIS_URL stops start-up before anything else is opened.
  const bus = await openEventBus<RestoreTopics & BackupTopics & JobTopics>(config.redisUrl);
  const { control, target, deployAfterBackup } = await prepareStartup(config).catch(async (error: unknown) => {
    await bus.close();
    throw error;
  });
  const operations = new OperationLog();
  const { store, settings, restoreGate, backups, restores, scratch, signals, backupJobs } = await openBackupServices(config, {
    control,
    target,
    events: bus.events,
    operations,
  }).catch(async (error: unknown) => {
    await control.close();
    await bus.close();
    throw error;
  });
  const audit = new AuditLog(control.client);
  const metrics = new Metrics({ restoreInProgress: () => restoreGate.busyNow() });
  const webhooks = new WebhookService({
    control: control.client,
    secretKey: () => loadSecretKey(config.dataDir),
    audit,
    retryDelaysMs: config.webhookRetryDelaysMs,
    onDelivered: (event, ok) => metrics.observeDelivery(event, ok),
  });
  // Each operation's end moves the metrics and may be sent to the webhooks: restores settled just below too.
  operations.onFinished((record) => {
    metrics.observe(record);
    webhooks.notify(record);
  });
  metrics.seed(backups.list());
  await restores.recoverInterrupted();
  if (deployAfterBackup.length > 0) {
    // TARGET_MIGRATE=deploy, on a database holding an older version's data: kept first.
    try {
      const backup = await backUpBeforeUpgrade({ backups, target, passphrase: () => settings.passphrase() }, deployAfterBackup);
      await deployTargetMigrations(target);
      log.info(
        { preUpgradeBackup: backup?.id ?? null, applied: deployAfterBackup },
        `target: ${deployAfterBackup.length} migration(s) applied (TARGET_MIGRATE=deploy) after the backup ${backup?.fileName ?? '(none needed)'}`,
      );
    } catch (error) {
      settings.close();
      await restores.stop();
      await signals.stop();
      await control.close();
      await bus.close();
      scratch.close();
      throw error;
    }
  }
  const scheduler = new Scheduler({
    control: control.client,
    controlProvider: config.controlDatabase.provider,
    settings,
    backups,
    restoreGate,
    instance: config.instanceId,
    operations,
  });
  await scheduler.start();
  const access = new AccessService({ control: control.client, dataDir: config.dataDir });
  const setupCode = await access.prepareSetupCode();
  await audit.prune();
  const jobs = new JobHistory({ control: control.client, backupJobs, restores });
  const services: Services = {
    access,
    audit,
    backups,
    backupJobs,
    jobs,
    cancellation: new JobCancellation({ control: control.client, history: jobs, signals }),
    restores,
    system: new SystemService({ target, store, appVersion: APP_VERSION, controlProvider: config.controlDatabase.provider }),
    settings,
    scheduler,
    webhooks,
  };

  /** The request's credentials, checked against the control database. */
  const identify = (req: IncomingMessage) => access.authenticate(bearerSecretOf(req.headers));

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Over HTTP the request's credentials are checked here; a websocket checked them once, at connect.
    context: async (yogaInitial) => {
      const initial = yogaInitial as { req?: IncomingMessage; res?: ServerResponse; auth?: Authentication; address?: string | null };
      if (initial.auth) return { services, auth: initial.auth, address: initial.address ?? null, sessionCookie: NO_COOKIE };
      const req = initial.req!;
      const secure = isHttps(req, config.trustProxy);
      return {
        services,
        auth: await identify(req),
        address: clientAddressOf(req, config.trustProxy),
        sessionCookie: {
          set: (token: string, expiresAt: Date) => initial.res?.appendHeader('set-cookie', sessionCookie(token, expiresAt, secure)),
          clear: () => initial.res?.appendHeader('set-cookie', clearedSessionCookie(secure)),
        },
      };
    },
    // GraphiQL is served by route(), gzipped (http/graphiql-page.ts).
    graphiql: false,
    landingPage: false,
    // Yoga's own cap (25 MB by default) would stop uploads long before UPLOAD_MAX_BYTES; other
    // requests are capped at MAX_GRAPHQL_BODY_BYTES by route() before they reach Yoga.
    maxRequestBodySize: Math.max(config.uploadMaxBytes + MULTIPART_OVERHEAD_BYTES, MAX_GRAPHQL_BODY_BYTES),
    // Unexpected errors are logged by maskUnexpectedError, with the id the client is given.
    logging: false,
    maskedErrors: { maskError: (error) => maskUnexpectedError(error) },
    plugins: [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useGraphQLLimits(),
      useStreamingUploads({ dir: config.scratchDir, maxFileBytes: config.uploadMaxBytes }),
    ],
    // Same-origin pages need no CORS headers; only the CORS_ORIGINS get any.
    cors: (request) => {
      const origin = corsOriginOf(request.headers.get('origin'), config.corsOrigins);
      return origin ? { origin: [origin], credentials: false } : false;
    },
  });

  // The web console at `/`, as `npm run build` left it in dist/web/.
  const consoleAssets = loadConsoleAssets();
  const server = createServer((req, res) => {
    void route(req, res).catch((error: unknown) => {
      // The path alone: a query string may carry what the log should not keep.
      const errorId = logUnexpectedError(`${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname}`, error);
      // A download that fails halfway can only be cut short: its status went out with the first bytes.
      if (res.headersSent) return void res.destroy();
      const message = `Unexpected error (id ${errorId}): see the server log.`;
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'InternalError', message, errorId } }));
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') return health(res, control, config);
    if (path === '/readyz') {
      // Open like /healthz, for a monitor: whether scheduled backups are happening, without their errors.
      const { ready, reason } = await scheduler.readiness();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ status: ready ? 'ready' : 'not ready', reason }));
    }
    if (path === '/openapi.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(openApiDocument));
    }
    if (consoleAssets.handles(path)) return consoleAssets.serve(req, res);
    if (asksForGraphiQL(req, path)) return serveGraphiQL(req, res);
    if (path.startsWith('/api/') || path === '/metrics') {
      const rest = {
        backups: services.backups,
        jobs: services.jobs,
        store,
        corsOrigins: config.corsOrigins,
        uploadMaxBytes: config.uploadMaxBytes,
        audit,
        metrics,
      };
      const handled = await handleRest(req, res, { ...rest, auth: await identify(req), address: clientAddressOf(req, config.trustProxy) });
      if (handled) return;
    }
    // Everything else is Yoga's: GraphQL over HTTP and GraphiQL.
    if (!isAllowedOrigin(req.headers.origin, req.headers.host, config.corsOrigins)) {
      return graphqlRefusal(res, 403, `requests from ${req.headers.origin} are refused (see CORS_ORIGINS)`);
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
      // An upload is staged on disk before any resolver runs: only an admin's is read at all.
      const auth = await identify(req);
      if (roleOf(auth.principal) !== 'ADMIN') {
        res.setHeader('connection', 'close'); // the body is not read
        if (!auth.principal) return graphqlRefusal(res, 401, auth.problem ?? 'sign in first: uploads need an ADMIN session or token');
        return graphqlRefusal(res, 403, 'uploads need the ADMIN role');
      }
      if (length > config.uploadMaxBytes + MULTIPART_OVERHEAD_BYTES) {
        res.setHeader('connection', 'close');
        return graphqlRefusal(
          res,
          413,
          `the upload is ${length} bytes; uploads are limited to ${config.uploadMaxBytes} (UPLOAD_MAX_BYTES)`,
        );
      }
    } else if (req.method === 'POST') {
      // A document is parsed before Armor can count its tokens: its size is capped first.
      if (req.headers['content-length'] === undefined) {
        res.setHeader('connection', 'close');
        return graphqlRefusal(res, 411, 'send a content-length: GraphQL requests are limited to ' + MAX_GRAPHQL_BODY_BYTES + ' bytes');
      }
      if (length > MAX_GRAPHQL_BODY_BYTES) {
        res.setHeader('connection', 'close');
        return graphqlRefusal(res, 413, `the request is ${length} bytes; GraphQL requests are limited to ${MAX_GRAPHQL_BODY_BYTES}`);
      }
    }
    return yoga(req, res);
  }

  const websocket = attachGraphQLWebSocket({ server, yoga, access, corsOrigins: config.corsOrigins, trustProxy: config.trustProxy });

  return {
    services,
    config,
    setupCode,
    start: () =>
      new Promise<string>((resolve, reject) => {
        server.once('error', (error) => reject(listenFailure(error, config.host, config.port)));
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve(`http://${host}:${port}`);
        });
      }),
    async stop() {
      settings.close();
      await scheduler.stop();
      await restores.stop();
      await webhooks.stop();
      await signals.stop();
      await websocket.dispose();
      await closeServer(server);
      await control.close();
      await bus.close();
      scratch.close();
    },
  };
}

/** Over a websocket there is no response to set a cookie on: a token from login is in the result. */
const NO_COOKIE = { set: () => {}, clear: () => {} };

async function health(res: ServerResponse, control: ControlDatabase, config: Config) {
  const checks: Record<string, string> = {};
  try {
    await control.client.$queryRawUnsafe('SELECT 1');
    checks.controlDatabase = 'ok';
  } catch (error) {
    checks.controlDatabase = (error as Error).message;
  }
  try {
    await listAppliedMigrations(config.target.location);
    checks.targetDatabase = 'ok';
  } catch (error) {
    checks.targetDatabase = (error as Error).message;
  }
  const ok = Object.values(checks).every((value) => value === 'ok');
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
}

/** The codes a GraphQL client reads from a refusal made before Yoga sees the request. */
const REFUSAL_CODES: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  411: 'LENGTH_REQUIRED',
  413: 'REQUEST_ENTITY_TOO_LARGE',
};

function graphqlRefusal(res: ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({ errors: [{ message, extensions: { code: REFUSAL_CODES[status] } }] });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
