// `npm run check:cycles`: no import cycle between files, and the layers of src/ depend one
// way: main.ts, app.ts → http, graphql → modules → engine → archive, ndjson, storage,
// target, control, prisma, core, util. Folder cycles: scripts/check-folder-cycles.mjs.
const LOW = '^src/(archive|ndjson|storage|target|control|prisma|core|util|events)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-file-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'low-layers-stay-low',
      comment: 'The archive format, encodings, storage and Prisma helpers know nothing of the engine or services.',
      severity: 'error',
      from: { path: LOW },
      to: { path: '^src/(engine|modules|graphql|http|examples)/|^src/[^/]+[.]ts$' },
    },
    {
      name: 'engine-is-service-free',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/(modules|graphql|http|events|control|examples)/|^src/[^/]+[.]ts$' },
    },
    {
      name: 'modules-are-graphql-free',
      comment: 'Services are plain TypeScript; the GraphQL schema and the REST API call them.',
      severity: 'error',
      from: { path: '^src/modules/' },
      to: { path: '^src/(graphql|http|events)/|^src/[^/]+[.]ts$|^graphql$' },
    },
    {
      name: 'rest-and-graphql-apart',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/graphql/' },
    },
    {
      name: 'graphql-and-rest-apart',
      severity: 'error',
      from: { path: '^src/graphql/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'server-and-console-apart',
      comment: 'The server serves the built console (dist/web/) and never imports web/.',
      severity: 'error',
      from: { path: '^(src|bench|scripts)/' },
      to: { path: '^web/' },
    },
    {
      name: 'console-stays-in-the-browser',
      comment: 'The web console talks to the server over HTTP only; its types come from schema.graphql (web/src/generated/).',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(src|test|bench|scripts)/' },
    },
    {
      name: 'providers-through-the-picker',
      comment: 'Only engine/providers.ts chooses between SQLite and PostgreSQL.',
      severity: 'error',
      from: { path: '^src/(?!engine/(providers[.]ts|sqlite/|postgres/))' },
      to: { path: '^src/engine/(sqlite|postgres)/' },
    },
    {
      name: 'providers-apart',
      severity: 'error',
      from: { path: '^src/engine/sqlite/' },
      to: { path: '^src/engine/postgres/' },
    },
    {
      name: 'providers-apart-2',
      severity: 'error',
      from: { path: '^src/engine/postgres/' },
      to: { path: '^src/engine/sqlite/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(generated|node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
