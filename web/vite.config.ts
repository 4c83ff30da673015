// The console's build: `npm run build` writes it to dist/web/, which the server serves at `/`.
import { defineConfig } from 'vite';

export default defineConfig({
  // Served from the site's root; every asset from the project itself.
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // No data: URLs: the Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    // Only the console's own modules: no polyfill loader inlined in index.html.
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
