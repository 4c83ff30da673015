// `npm start`: reads the configuration, runs the start-up checks and serves until stopped.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './core/config.ts';
import { logUnexpectedError } from './core/error-log.ts';
import { log } from './core/logger.ts';
import { limitHeapGrowth } from './util/heap-growth.ts';

async function main(): Promise<void> {
  limitHeapGrowth();
  const config = loadConfig();
  const app = await buildApp(config);
  const url = await app.start();
  log.info({ url }, `backup control plane listening on ${url} (GraphiQL at ${url}/graphql)`);
  log.info(
    { provider: config.target.location.provider, backupDir: config.backupDir },
    `target: ${config.target.location.provider} ${config.target.isExample ? '(bundled example)' : ''}; backups in ${config.backupDir}`,
  );
  if (app.setupCode) {
    // For the operator, who reads it here: in the message, where no redaction applies.
    log.warn(
      `no account yet: setup code ${app.setupCode} (also in ${config.dataDir}/setup-code). Create the first account with setupAccount, or restore a backup with the code first (see README, "Accounts and access").`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal}: stopping`);
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logUnexpectedError('stopping', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    // One line for the person starting it, on stderr: not a log line.
    console.error(`configuration error: ${error.message}`);
    process.exit(78); // EX_CONFIG
  }
  logUnexpectedError('start-up', error);
  process.exit(1);
});
