// Wires configuration, databases, services and the HTTP + websocket server together.
// `buildApp` does the start-up checks; `start` listens; `stop` closes everything.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useServer } from 'graphql-ws/use/ws';
import { createFetch } from '@whatwg-node/fetch';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config } from './core/config.ts';
import type { ControlDatabase } from './control/control-db.ts';
import type { Context, Services } from './graphql/context.ts';
import { schema } from './graphql/schema/index.ts';
import { useGraphQLLimits } from './graphql/limits.ts';
import { openApiDocument } from './http/openapi.ts';
import { corsOriginOf, isAllowedOrigin } from './http/origin.ts';
import { handleRest } from './http/rest.ts';
import { BackupCatalog } from './modules/backups/catalog.ts';
import { BackupService } from './modules/backups/service.ts';
import { RestoreGate } from './modules/restore-gate.ts';
import { RestoreService } from './modules/restores/service.ts';
import type { RestoreTopics } from './modules/restores/restore-progress.ts';
import { SystemService } from './modules/system/service.ts';
import { listenFailure, prepareStartup } from './startup.ts';
import { SwitchableFolderStore } from './storage/switchable-store.ts';
import { loadSecretKey } from './control/secret-box.ts';
import { openEventBus } from './events/event-bus.ts';
import { SettingsService } from './modules/schedule/settings-service.ts';
import { Scheduler } from './modules/schedule/scheduler.ts';
import { listAppliedMigrations } from './target/applied-migrations.ts';
import { APP_VERSION } from './core/version.ts';
import { logUnexpectedError } from './core/error-log.ts';
import { maskUnexpectedError } from './graphql/unexpected-error.ts';

/** Open websockets per remote address; more are refused at the upgrade (429). */
export const MAX_SOCKETS_PER_ADDRESS = 50;
/** Room in a multipart upload for the operations, the map and the boundaries around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** The header a non-JSON GraphQL request (a multipart upload) must carry: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Yoga's enveloped execute/subscribe, passed through graphql-ws as the root value. */
interface EnvelopedRoot {
  execute(args: unknown): ReturnType<Parameters<typeof useServer>[0]['execute'] & {}>;
  subscribe(args: unknown): ReturnType<Parameters<typeof useServer>[0]['subscribe'] & {}>;
}

export interface App {
  readonly services: Services;
  readonly config: Config;
  /** Listens on the configured host and port (0: any free port) and returns the base URL. */
  start(): Promise<string>;
  /** Stops scheduling (waiting for a running backup), then closes the server, the control database and the event bus. */
  stop(): Promise<void>;
}

export async function buildApp(config: Config): Promise<App> {
  // Redis first: a wrong REDIS_URL stops start-up before anything else is opened.
  const bus = await openEventBus<RestoreTopics>(config.redisUrl);
  const { control, target } = await prepareStartup(config).catch(async (error: unknown) => {
    await bus.close();
    throw error;
  });
  // The backup folder is a setting (unless BACKUP_DIR fixes it): the store follows it.
  const store = new SwitchableFolderStore(config.backupDir);
  await store.removeLeftovers();
  const settings = new SettingsService({
    control: control.client,
    store,
    defaultBackupDir: config.backupDir,
    backupDirFixed: config.backupDirFixed,
    secretKey: () => loadSecretKey(config.dataDir),
  });
  await settings.init();
  const catalog = new BackupCatalog(store);
  const restoreGate = new RestoreGate();
  const backups = new BackupService({
    catalog,
    store,
    target,
    control: control.client,
    scratchDir: config.scratchDir,
    appVersion: APP_VERSION,
    restoreGate,
    uploadMaxBytes: config.uploadMaxBytes,
  });
  const restores = new RestoreService({
    backups,
    store,
    target,
    control: control.client,
    gate: restoreGate,
    scratchDir: config.scratchDir,
    events: bus.events,
    savedPassphrase: () => settings.passphrase(),
  });
  await restores.recoverInterrupted();
  const scheduler = new Scheduler({
    control: control.client,
    controlProvider: config.controlDatabase.provider,
    settings,
    backups,
    restoreGate,
  });
  await scheduler.start();
  const services: Services = {
    backups,
    restores,
    system: new SystemService({ target, store, appVersion: APP_VERSION, controlProvider: config.controlDatabase.provider }),
    settings,
    scheduler,
  };

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    context: () => ({ services }),
    graphiql: { title: 'Backup control plane', subscriptionsProtocol: 'WS' },
    // Multipart uploads are parsed in memory: cap them before they are read, not after.
    fetchAPI: createFetch({ formDataLimits: { fileSize: config.uploadMaxBytes, files: 1, fieldSize: 1024 * 1024 } }),
    landingPage: false,
    // Unexpected errors are logged by maskUnexpectedError, with the id the client is given.
    logging: false,
    maskedErrors: { maskError: (error) => maskUnexpectedError(error) },
    plugins: [useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }), useGraphQLLimits()],
    // Same-origin pages need no CORS headers; only the CORS_ORIGINS get any.
    cors: (request) => {
      const origin = corsOriginOf(request.headers.get('origin'), config.corsOrigins);
      return origin ? { origin: [origin], credentials: false } : false;
    },
  });

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
    if (path === '/openapi.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(openApiDocument));
    }
    if (path === '/') {
      res.writeHead(302, { location: '/graphql' });
      return res.end();
    }
    if (await handleRest(req, res, { backups: services.backups, store, corsOrigins: config.corsOrigins })) return;
    // Everything else is Yoga's: GraphQL over HTTP and GraphiQL.
    if (!isAllowedOrigin(req.headers.origin, req.headers.host, config.corsOrigins)) {
      return graphqlRefusal(res, 403, `requests from ${req.headers.origin} are refused (see CORS_ORIGINS)`);
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (/^multipart\/form-data/i.test(req.headers['content-type'] ?? '') && length > config.uploadMaxBytes + MULTIPART_OVERHEAD_BYTES) {
      res.setHeader('connection', 'close'); // the body is not read
      return graphqlRefusal(res, 413, `the upload is ${length} bytes; uploads are limited to ${config.uploadMaxBytes} (UPLOAD_MAX_BYTES)`);
    }
    return yoga(req, res);
  }

  // Upgrades are handed over here rather than the server given to ws, so that a port that
  // cannot be listened on is reported once, by start(), and not by graphql-ws too.
  const sockets = new WebSocketServer({ noServer: true, path: yoga.graphqlEndpoint });
  const socketsByAddress = new Map<string, number>();
  server.on('upgrade', (req, socket, head) => {
    if (!isAllowedOrigin(req.headers.origin, req.headers.host, config.corsOrigins)) return refuseUpgrade(socket, 403, 'Forbidden');
    const address = (socket as Socket).remoteAddress ?? '';
    const open = socketsByAddress.get(address) ?? 0;
    if (open >= MAX_SOCKETS_PER_ADDRESS) return refuseUpgrade(socket, 429, 'Too Many Requests');
    socketsByAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsByAddress.set(address, left);
      else socketsByAddress.delete(address);
    });
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  // Websocket operations go through Yoga's envelope: the same context, plugins and limits as HTTP.
  const wsServer = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        try {
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params,
          });
          const args = {
            schema,
            operationName: params.operationName,
            document: parse(params.query),
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          if (errors.length) return errors;
          return args;
        } catch (error) {
          // A syntax error is the client's; anything else is masked, not sent as the socket's close reason.
          return [maskUnexpectedError(error)];
        }
      },
      // A subscription's stream that throws reaches graphql-ws, not Yoga's masking.
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => maskUnexpectedError(error)),
    },
    sockets,
  );

  return {
    services,
    config,
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
      await wsServer.dispose();
      await closeServer(server);
      await control.close();
      await bus.close();
    },
  };
}

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

function graphqlRefusal(res: ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({ errors: [{ message }] });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
