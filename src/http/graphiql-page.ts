// GraphiQL at /graphql with its scripts and styles inline, from @graphql-yoga/render-graphiql:
// nothing from a CDN, so it works offline. Made on the first request for it (9 MB) and served
// here rather than by Yoga, gzipped (about a quarter of that) to browsers, which all accept it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

/** The first tab's document: the backups list and the system status. */
export const GRAPHIQL_DEFAULT_QUERY = `# Sign in first, in the console at / or with the login mutation:
# the session cookie goes with every request, websockets too.
# A restore's progress, live:
# subscription { restoreProgress(jobId: "…") { phase table tablesDone tablesTotal job { status } } }
query BackupsAndStatus {
  backups(first: 10) {
    totalCount
    edges {
      node {
        id
        kind
        createdAt
        sizeBytes
        encrypted
        includesMedia
        appVersion
        schemaVersion
        restorable { ok reason }
      }
    }
  }
  system {
    appVersion
    targetName
    schemaVersion
    pendingMigrations
    databaseProvider
    backupDir
    freeBytes
  }
}
`;

const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'Backup control plane',
  subscriptionsProtocol: 'WS',
  defaultQuery: GRAPHIQL_DEFAULT_QUERY,
};

/** GraphiQL's inline scripts and styles, its editor's blob: workers and data: icons; requests only to this server. */
export const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self' blob:",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The page and its gzip, made on the first request and kept: the options never change. */
let page: Promise<{ html: Buffer; gzipped: Buffer }> | null = null;

/** Whether this request asks for GraphiQL: a GET of /graphql that accepts HTML (Yoga's own test). */
export function asksForGraphiQL(req: IncomingMessage, pathname: string): boolean {
  return (pathname === '/graphql' || pathname === '/graphql/') && req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '');
}

/** GraphiQL, gzipped when the client accepts it. */
export async function serveGraphiQL(req: IncomingMessage, res: ServerResponse): Promise<void> {
  page ??= renderPage().catch((error: unknown) => {
    page = null; // tried again by the next request
    throw error;
  });
  const { html, gzipped } = await page;
  const useGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = useGzip ? gzipped : html;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    ...(useGzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(body);
}

async function renderPage(): Promise<{ html: Buffer; gzipped: Buffer }> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = Buffer.from(
    renderGraphiQL(GRAPHIQL_OPTIONS).replace('<head>', `<head>\n<meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}" />`),
  );
  return { html, gzipped: await promisify(gzip)(html) };
}
