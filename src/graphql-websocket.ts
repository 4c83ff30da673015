// GraphQL over websockets (graphql-ws) on the HTTP server's upgrades: the origin and a cap per
// address are checked at the upgrade, the credentials at connect (the cookie on the upgrade or
// `connectionParams.authorization`), and a socket whose session or token ends is closed.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { Context } from './graphql/context.ts';
import { maskUnexpectedError } from './graphql/unexpected-error.ts';
import { isAllowedOrigin } from './http/origin.ts';
import { bearerSecretOf, clientAddressOf, secretOfConnectionParam } from './http/request-identity.ts';
import type { AccessService } from './modules/access/access-service.ts';
import type { Authentication } from './modules/access/principal.ts';

/** Open websockets per client address; more are refused at the upgrade (429). */
export const MAX_SOCKETS_PER_ADDRESS = 50;
/** Open sockets' credentials are checked again this often: expiry, and sign-outs on other instances. */
const RECHECK_EVERY_MS = 30_000;
/** The close code for a connection without valid credentials, or whose credentials ended. */
export const UNAUTHORIZED_CLOSE = CloseCode.Unauthorized; // 4401

/** Yoga's enveloped execute/subscribe, passed through graphql-ws as the root value. */
interface EnvelopedRoot {
  execute(args: unknown): ReturnType<Parameters<typeof useServer>[0]['execute'] & {}>;
  subscribe(args: unknown): ReturnType<Parameters<typeof useServer>[0]['subscribe'] & {}>;
}

type Extra = {
  socket: WebSocket;
  request: IncomingMessage;
  auth?: Authentication;
  secret?: string;
  address?: string | null;
};

export interface GraphQLWebSocketDeps {
  server: Server;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  access: AccessService;
  corsOrigins: readonly string[];
  trustProxy: readonly string[];
}

export function attachGraphQLWebSocket(deps: GraphQLWebSocketDeps): { dispose(): Promise<void> } {
  const { server, yoga, access } = deps;
  // Upgrades are handed over here rather than the server given to ws, so that a port that
  // cannot be listened on is reported once, by start(), and not by graphql-ws too.
  const sockets = new WebSocketServer({ noServer: true, path: yoga.graphqlEndpoint });
  const socketsByAddress = new Map<string, number>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isAllowedOrigin(req.headers.origin, req.headers.host, deps.corsOrigins)) return refuseUpgrade(socket, 403, 'Forbidden');
    const address = clientAddressOf(req, deps.trustProxy) ?? '';
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

  // Connected sockets and the secret each signed in with, to check again when sessions end.
  const connected = new Set<Extra>();
  const recheck = async () => {
    for (const extra of [...connected]) {
      if (extra.socket.readyState !== WebSocket.OPEN) {
        connected.delete(extra);
        continue;
      }
      const auth = await access.authenticate(extra.secret ?? null).catch(() => null);
      if (!auth?.principal) {
        connected.delete(extra);
        extra.socket.close(UNAUTHORIZED_CLOSE, 'Unauthorized: the session or token has ended');
      }
    }
  };
  const stopListening = access.onRevoked(() => void recheck());
  const timer = setInterval(() => void recheck(), RECHECK_EVERY_MS);
  timer.unref();

  // Websocket operations go through Yoga's envelope: the same context, plugins and limits as HTTP.
  const wsServer = useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const secret = secretOfConnectionParam(ctx.connectionParams?.authorization) ?? bearerSecretOf(ctx.extra.request.headers);
        const auth = await access.authenticate(secret);
        if (!auth.principal) {
          // graphql-ws would close with 4403 on `false`; no valid credentials is 4401.
          ctx.extra.socket.close(
            UNAUTHORIZED_CLOSE,
            closeReason(auth.problem ?? 'Unauthorized: send connectionParams.authorization or the session cookie'),
          );
          return false;
        }
        Object.assign(ctx.extra, { auth, secret, address: clientAddressOf(ctx.extra.request, deps.trustProxy) });
        connected.add(ctx.extra);
        return true;
      },
      onClose: (ctx) => void connected.delete(ctx.extra),
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        try {
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params,
            auth: ctx.extra.auth,
            address: ctx.extra.address,
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
    async dispose() {
      clearInterval(timer);
      stopListening();
      await wsServer.dispose();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A close reason is at most 123 bytes. */
function closeReason(text: string): string {
  return Buffer.byteLength(text) <= 123 ? text : `${Buffer.from(text).subarray(0, 120).toString()}...`;
}
