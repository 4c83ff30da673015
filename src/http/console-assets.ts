// The web console (web/, built into dist/web/ by `npm run build`) at `/`: index.html for its
// pages, the hashed assets with long cache headers. Only files the build folder held at
// start-up are served, each from memory; without a build, `/` says how to make one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PROJECT_ROOT } from '../core/project-root.ts';

export const CONSOLE_BUILD_DIR = path.join(PROJECT_ROOT, 'dist', 'web');

/** The console's pages (web/src/App.tsx routes them): each is index.html. */
const PAGE = /^\/(?:login|setup|schedule|accounts|activity|restores\/[^/]+)?$/;

/** Everything a console page loads comes from this server; websockets to it included. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
  /** Hashed names never change content: cached for a year. */
  immutable: boolean;
}

export interface ConsoleAssets {
  /** Whether `pathname` is the console's: one of its pages or a file of its build. */
  handles(pathname: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse): void;
  /** The files served, by URL path (empty without a build). */
  readonly files: ReadonlyMap<string, { bytes: number; gzipBytes: number | null }>;
}

export function loadConsoleAssets(dir: string = CONSOLE_BUILD_DIR): ConsoleAssets {
  const assets = new Map<string, Asset>();
  let missing: string | null = null;
  try {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const urlPath = '/' + path.relative(dir, file).split(path.sep).join('/');
      const extension = path.extname(entry.name).toLowerCase();
      const body = readFileSync(file);
      assets.set(urlPath, {
        type: TYPES[extension] ?? 'application/octet-stream',
        body,
        gzipped: COMPRESSIBLE.has(extension) ? gzipSync(body) : null,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: urlPath.startsWith('/assets/'),
      });
    }
    if (!assets.has('/index.html')) missing = `${dir} holds no index.html`;
  } catch (error) {
    missing = `${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }

  return {
    files: new Map(
      [...assets].map(([urlPath, asset]) => [urlPath, { bytes: asset.body.length, gzipBytes: asset.gzipped?.length ?? null }]),
    ),
    handles: (pathname) => PAGE.test(pathname) || pathname.startsWith('/assets/') || assets.has(pathname),
    serve(req, res) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      res.setHeader('content-security-policy', CONSOLE_CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'same-origin');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return text(res, 405, 'Only GET and HEAD are served here.', { allow: 'GET, HEAD' });
      const page = PAGE.test(pathname);
      if (missing && page) {
        return text(
          res,
          503,
          `The web console is not built: run \`npm run build\` (npm start does it), then start the server again. (${missing})`,
        );
      }
      const asset = assets.get(page ? '/index.html' : pathname);
      if (!asset) return text(res, 404, `Not found: ${pathname}`);
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag: asset.etag,
        vary: 'accept-encoding',
      };
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers);
        return void res.end();
      }
      const gzip = asset.gzipped !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? asset.gzipped! : asset.body;
      if (gzip) headers['content-encoding'] = 'gzip';
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

function text(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(message + '\n');
}
