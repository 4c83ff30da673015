// GraphiQL at /graphql with its scripts and styles inline, from @graphql-yoga/render-graphiql:
// nothing from a CDN, so it works offline. Loaded on the first request for it (9 MB).
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

let rendered: { options: string; page: Uint8Array<ArrayBuffer> } | null = null;

export async function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<Uint8Array<ArrayBuffer>> {
  const key = JSON.stringify(options);
  if (rendered?.options !== key) {
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    // Yoga sets the response's headers: the policy goes in the page itself.
    const html = renderGraphiQL(options).replace(
      '<head>',
      `<head>\n<meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}" />`,
    );
    rendered = { options: key, page: new TextEncoder().encode(html) };
  }
  return rendered.page;
}
