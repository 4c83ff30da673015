// The web console at `/` in a real browser (Debian's Chromium), offline: every request that is
// not to the server under test is aborted and must not have been tried. It follows a new
// user: first run with the setup code, backups, upload, restore, settings, a viewer.
// Screenshots go to dist/screenshots/; UPDATE_SCREENSHOTS=1 also writes the README's.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CSP, loadConsoleAssets } from '../../src/http/console-assets.ts';
import { GRAPHIQL_DEFAULT_QUERY } from '../../src/http/graphiql-page.ts';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { buildConsole, launchChromium, offlineContext, type OfflineContext } from '../helpers/browser.ts';
import { archivePath } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCREENSHOTS = path.join(ROOT, 'dist', 'screenshots');
const README_SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');
const OWNER = { username: 'owner', password: 'correct horse battery staple' };
const VIEWER = { username: 'watcher', password: 'a viewer password, long enough' };
const PASSPHRASE = 'rhubarb custard 42';

let server: TestServer;
let browser: Browser;
let admin: OfflineContext;
let page: Page;
const contexts: OfflineContext[] = [];
/** The archives the tests make, by what they hold; and the restore job they follow. */
const made = { configOnly: '', withMedia: '', encrypted: '', restoreJob: '' };

before(async () => {
  await buildConsole();
  server = await startServer({ signIn: false });
  // A library big enough that a restore is seen under way (some 120,000 rows).
  await seedExampleLibrary({ databaseUrl: server.targetUrl, items: 5000 });
  browser = await launchChromium();
  admin = await offlineContext(browser, server.url, { viewport: { width: 1280, height: 800 } });
  contexts.push(admin);
  page = admin.page;
  await mkdir(SCREENSHOTS, { recursive: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') await mkdir(README_SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Nothing reached for outside the server, and no page error or CSP violation, in any context. */
function assertOfflineAndClean(): void {
  for (const { foreign, errors } of contexts) {
    assert.deepEqual(foreign, [], 'requests to other hosts');
    assert.deepEqual(errors, [], 'page errors');
  }
}

async function screenshot(name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const file = path.join(SCREENSHOTS, name);
  await page.screenshot({ path: file, ...options });
  if (process.env.UPDATE_SCREENSHOTS === '1') await copyFile(file, path.join(README_SCREENSHOTS, name));
  return path.relative(ROOT, file);
}

/** The backups page, loaded afresh: no dialog left open by an earlier test. */
async function openBackups(): Promise<void> {
  await page.goto('/');
  await page.locator('table.backups').waitFor();
}

function row(fileName: string) {
  return page.locator(`tr[data-backup-id="${fileName}"]`);
}

/** The file name in the newest row of the backups list that holds `selector`. */
async function newestRowWith(selector: string): Promise<string> {
  const found = page.locator('table.backups tbody tr', { has: page.locator(selector) }).first();
  await found.waitFor();
  return (await found.getAttribute('data-backup-id'))!;
}

test('the console is served from the build, with its own policy, and nothing else is', async (t) => {
  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), CONSOLE_CSP);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no asset from another host');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const asset = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(asset.headers.get('content-encoding'), 'gzip');
  assert.equal((await fetch(`${server.url}/restores/some-job`)).headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await fetch(`${server.url}/assets/not-built.js`)).status, 404);
  assert.equal((await fetch(`${server.url}/assets/..%2f..%2fpackage.json`)).status, 404);
  assert.equal((await fetch(`${server.url}/`, { method: 'POST' })).status, 405);

  // Run from sources without a build, `/` says what to do.
  const unbuilt = loadConsoleAssets(path.join(os.tmpdir(), 'no-console-build-here'));
  const bare = createServer((req, res) => unbuilt.serve(req, res)).listen(0, '127.0.0.1');
  await once(bare, 'listening');
  const notBuilt = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`);
  bare.close();
  assert.equal(notBuilt.status, 503);
  assert.match(await notBuilt.text(), /npm run build/);

  const served = [...loadConsoleAssets().files.values()];
  const bytes = served.reduce((sum, file) => sum + file.bytes, 0);
  const gzip = served.reduce((sum, file) => sum + (file.gzipBytes ?? file.bytes), 0);
  t.diagnostic(`console bundle served for /: ${served.length} files, ${bytes} bytes (${gzip} gzipped)`);
});

test('first run: the login page leads to the setup code, which creates the account', async () => {
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // With no account yet, signing in says so by opening the first-run page.
  await page.getByLabel('Username').fill(OWNER.username);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Set up this server' }).waitFor();
  await page.getByLabel('Setup code').fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('p.error[role="alert"]').waitFor();
  assert.equal(await page.getByLabel('Setup code').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Setup code').fill(server.setupCode!);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Create the first account' }).waitFor();
  await page.getByLabel('Username').fill(OWNER.username);
  await page.getByLabel('Password', { exact: true }).fill(OWNER.password);
  await page.getByLabel('Password again').fill(OWNER.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Backups', exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByText(`${OWNER.username} admin`).waitFor();
  assertOfflineAndClean();
});

test('backups are created config only with a note, with media data, and encrypted', async () => {
  await page.getByLabel('Note (optional)').fill('before the upgrade');
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.getByText('Backup created:').waitFor();
  made.configOnly = await newestRowWith('.note');
  await row(made.configOnly).getByText('Config only').waitFor();
  await row(made.configOnly).getByText('Restorable').waitFor();

  await page.getByLabel('Include media data').check();
  await page.getByRole('button', { name: 'Create backup' }).click();
  made.withMedia = await newestRowWith('.badge.media');

  await page.getByLabel('Passphrase (optional)').fill('short');
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.locator('p.error', { hasText: '8' }).waitFor();
  assert.equal(await page.getByLabel('Passphrase (optional)').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Passphrase (optional)').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create backup' }).click();
  made.encrypted = await newestRowWith('.badge.encrypted');
  assert.match(made.encrypted, /\.enc$/);
  assert.equal(await page.locator('table.backups tbody tr').count(), 3);
  assertOfflineAndClean();
});

test('the backups list renders soon after a fresh load', async (t) => {
  await page.goto('/');
  await page.locator('table.backups').waitFor();
  const [mark] = await page.evaluate(() => performance.getEntriesByName('backups-list-rendered').map((entry) => entry.startTime));
  assert.ok(mark !== undefined && mark > 0);
  t.diagnostic(`time to first render of the backups list: ${Math.round(mark)} ms after navigation start`);
});

test('a backup is downloaded with the session cookie, and verified with its report', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(made.configOnly)
      .getByRole('link', { name: /^Download/ })
      .click(),
  ]);
  assert.equal(download.suggestedFilename(), made.configOnly);
  const downloaded = await readFile((await download.path())!);
  assert.deepEqual(downloaded, await readFile(archivePath(server, made.configOnly)));

  await row(made.configOnly)
    .getByRole('button', { name: /^Verify/ })
    .click();
  const dialog = page.getByRole('dialog', { name: `Verify ${made.configOnly}` });
  await dialog.getByRole('button', { name: 'Verify', exact: true }).click();
  await dialog.getByText('The backup is sound').waitFor({ timeout: 60_000 });
  assert.ok((await dialog.locator('.report tbody tr').count()) > 0);
  await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  await dialog.waitFor({ state: 'detached' });
});

test('an archive dropped on the upload zone is uploaded, with its progress shown', async () => {
  const bytes = await readFile(archivePath(server, made.configOnly));
  // Whether the progress bar showed at all: a small file on this machine goes up at once.
  await page.evaluate(() => {
    const seen = window as unknown as { uploadProgressSeen?: boolean };
    new MutationObserver(() => {
      if (document.querySelector('progress[aria-label^="Uploading"]')) seen.uploadProgressSeen = true;
    }).observe(document.body, { subtree: true, childList: true });
  });
  const dataTransfer = await page.evaluateHandle(
    ({ base64, name }) => {
      const transfer = new DataTransfer();
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([data], name, { type: 'application/gzip' }));
      return transfer;
    },
    { base64: bytes.toString('base64'), name: 'from-the-old-laptop.tar.gz' },
  );
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer });
  await page.getByText('Uploaded from-the-old-laptop.tar.gz as').waitFor();
  const uploaded = await newestRowWith('td:text-is("Uploaded")');
  assert.match(uploaded, /-uploaded\.tar\.gz$/);
  assert.equal(await page.evaluate(() => (window as unknown as { uploadProgressSeen?: boolean }).uploadProgressSeen), true);
  assertOfflineAndClean();
});

test('a wrong passphrase is shown under the passphrase field of the restore dialog', async () => {
  await openBackups();
  await row(made.encrypted)
    .getByRole('button', { name: /^Restore/ })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Restore this backup?' });
  await dialog.getByLabel('Passphrase').fill('not the passphrase');
  await dialog.getByLabel('Type RESTORE to confirm').fill('RESTORE');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await dialog.locator('p.error').waitFor();
  assert.match((await dialog.locator('p.error').textContent())!, /passphrase/i);
  assert.equal(await dialog.getByLabel('Passphrase').getAttribute('aria-invalid'), 'true');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('an encrypted backup is restored from its dialog and followed live to the end', async (t) => {
  await openBackups();
  const restoreButton = row(made.encrypted).getByRole('button', { name: /^Restore/ });
  // By keyboard: the dialog opens on Enter and Escape gives the focus back.
  await restoreButton.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Restore this backup?' });
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), `Restore ${made.encrypted}`);
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  for (const fact of ['Date', 'App version', 'Schema version']) await dialog.getByText(fact, { exact: true }).waitFor();
  await dialog.getByText('Restoring replaces all current data').waitFor();
  const confirm = dialog.getByRole('button', { name: 'Restore', exact: true });
  assert.equal(await confirm.isDisabled(), true, 'not before the confirmation is typed');
  await dialog.getByLabel('Passphrase').fill(PASSPHRASE);
  await dialog.getByLabel('Type RESTORE to confirm').fill('RESTORE');
  await confirm.click();

  await page.waitForURL(/\/restores\/[^/]+$/);
  made.restoreJob = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  await page.getByRole('heading', { name: 'Restore', exact: true }).waitFor();
  await page.getByTestId('restore-phase').waitFor();
  // The README's picture of a restore under way: taken once rows are being written, if it is not over by then.
  const shot = await page
    .waitForFunction(
      () => {
        const rows = document.querySelector<HTMLProgressElement>('progress[id^="rows-"]');
        return rows !== null && rows.value > 0 && rows.value < rows.max;
      },
      undefined,
      { polling: 'raf', timeout: 20_000 },
    )
    .then(() => screenshot('restore-progress.png'))
    .catch(() => null);
  const outcome = page.getByTestId('restore-outcome');
  await outcome.waitFor({ timeout: 60_000 });
  assert.match((await outcome.textContent())!, /Restore finished/);
  const tables = await page.getByText(/^Tables: \d+ of \d+$/).textContent();
  const [, done, total] = /Tables: (\d+) of (\d+)/.exec(tables!)!;
  assert.equal(done, total);
  await page.getByText('Safety backup of the data before this restore:').waitFor();
  t.diagnostic(`screenshot: ${shot ?? (await screenshot('restore-progress.png'))}`);
  assertOfflineAndClean();
});

test('a backup from a newer schema is refused with its message, and deleted', async () => {
  const entries = editManifest(await readEntries(await readFile(archivePath(server, made.configOnly))), (manifest) => {
    manifest.migrations.push('20991231000000_from_the_future');
    manifest.schemaVersion = '20991231000000_from_the_future';
  });
  const name = 'app-backup-2099-12-31T00-00-00-manual.tar.gz';
  await writeFile(archivePath(server, name), await pack(entries));
  await openBackups();
  await row(name).getByText('Cannot restore here').waitFor();
  await row(name)
    .getByRole('button', { name: /^Restore/ })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Restore this backup?' });
  await dialog.getByTestId('not-restorable').waitFor();
  await dialog.getByLabel('Type RESTORE to confirm').fill('RESTORE');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  const refusal = dialog.locator('.alert.refused[role="alert"]');
  await refusal.waitFor();
  const text = (await refusal.textContent())!;
  assert.match(text, /20991231000000_from_the_future/);
  assert.match(text, /Upgrade the app first/);
  assert.equal(new URL(page.url()).pathname, '/', 'no restore started');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Deleted after a confirmation.
  await row(name)
    .getByRole('button', { name: /^Delete/ })
    .click();
  const confirm = page.getByRole('dialog', { name: 'Delete this backup?' });
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByText(`Deleted ${name}.`).waitFor();
  await row(name).waitFor({ state: 'detached' });
  assertOfflineAndClean();
});

test('schedule settings are saved, refused field by field, and shown again', async () => {
  await page.getByRole('link', { name: 'Schedule' }).click();
  await page.getByRole('heading', { name: 'Schedule' }).waitFor();
  await page.getByLabel('Frequency').selectOption('WEEKLY');
  await page.getByLabel('Weekday').selectOption('2');
  await page.getByLabel('Time', { exact: true }).fill('04:30');
  await page.getByLabel('Keep').fill('5');
  await page.getByLabel('Include media data').check();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.locator('p.error', { hasText: 'IANA' }).waitFor();
  assert.equal(await page.getByLabel('Time zone').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('Time zone').fill('Europe/Paris');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();

  await page.reload();
  await page.getByLabel('Frequency').waitFor();
  assert.equal(await page.getByLabel('Frequency').inputValue(), 'WEEKLY');
  assert.equal(await page.getByLabel('Weekday').inputValue(), '2');
  assert.equal(await page.getByLabel('Time', { exact: true }).inputValue(), '04:30');
  assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Paris');
  assert.equal(await page.getByLabel('Keep').inputValue(), '5');
  assert.equal(await page.getByLabel('Include media data').isChecked(), true);
  assert.match((await page.getByTestId('passphrase-state').textContent())!, /encrypted with the saved passphrase/);
  assert.notEqual(await page.getByTestId('next-run').textContent(), '—');

  await page.getByRole('button', { name: 'Clear the saved passphrase' }).click();
  await page.getByText('No passphrase is saved').waitFor();
  assertOfflineAndClean();
});

test('the activity page shows the audit log', async () => {
  await page.getByRole('link', { name: 'Activity' }).click();
  await page.locator('table.activity').getByText('createBackup').first().waitFor();
  await page.locator('table.activity').getByText('updateBackupSettings').first().waitFor();
});

test('a viewer sees the backups and the schedule, and no button that changes anything', async () => {
  await page.getByRole('link', { name: 'Accounts' }).click();
  const addAccount = page.getByRole('form', { name: 'Add an account' });
  await addAccount.getByLabel('Username').fill(VIEWER.username);
  await addAccount.getByLabel('Password').fill(VIEWER.password);
  await addAccount.getByLabel('Role').selectOption('VIEWER');
  await addAccount.getByRole('button', { name: 'Add account' }).click();
  await page.getByRole('row', { name: new RegExp(VIEWER.username) }).waitFor();

  const viewer = await offlineContext(browser, server.url, { viewport: { width: 390, height: 844 } });
  contexts.push(viewer);
  const phone = viewer.page;
  await phone.goto('/');
  await phone.getByLabel('Username').fill(VIEWER.username);
  await phone.getByLabel('Password').fill(VIEWER.password);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await phone.locator('table.backups tbody tr').first().waitFor();
  assert.ok((await phone.locator('table.backups tbody tr').count()) >= 5);
  for (const name of [/^Restore/, /^Delete/, /^Verify/, 'Create backup']) {
    assert.equal(await phone.getByRole('button', { name }).count(), 0, `no ${name} button`);
  }
  assert.equal(await phone.getByRole('link', { name: /^Download/ }).count(), 0);
  assert.equal(await phone.getByTestId('dropzone').count(), 0);
  assert.equal(await phone.getByRole('link', { name: 'Activity' }).count(), 0);
  // Phone width: nothing wider than the screen.
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= innerWidth));

  await phone.getByRole('link', { name: 'Schedule' }).click();
  await phone.getByLabel('Frequency').waitFor();
  assert.equal(await phone.getByLabel('Frequency').isDisabled(), true);
  assert.equal(await phone.getByRole('button', { name: 'Save settings' }).count(), 0);
  assertOfflineAndClean();
});

test('an admin makes an API token, shown once, that scripts can use, then revokes it', async () => {
  await page.getByRole('link', { name: 'Accounts' }).click();
  const form = page.getByRole('form', { name: 'Create an API token' });
  await form.getByLabel('Token name').fill('nightly offsite copy');
  await form.getByLabel('Role').selectOption('VIEWER');
  await form.getByRole('button', { name: 'Create token' }).click();
  const token = (await form.locator('code.secret').textContent())?.trim() ?? '';
  assert.ok(token.length >= 32, `the token is shown: ${token}`);
  await page.getByRole('row', { name: /nightly offsite copy/ }).waitFor();

  type Answer = { data?: { system?: { targetName: string } } | null; errors?: { message: string; extensions?: { code?: string } }[] };
  const asScript = async (): Promise<Answer> => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ system { targetName } }' }),
    });
    return (await response.json()) as Answer;
  };
  const allowed = await asScript();
  assert.ok(allowed.data?.system?.targetName, `the token reads as a viewer: ${JSON.stringify(allowed)}`);

  await page.getByRole('button', { name: 'Revoke token nightly offsite copy' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('row', { name: /nightly offsite copy/ }).waitFor({ state: 'detached' });
  const refused = await asScript();
  assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', JSON.stringify(refused));
  assert.match(refused.errors?.[0]?.message ?? '', /revoked/);
  assertOfflineAndClean();
});

test('a viewer changes their password: a wrong current one is shown at its field, the new one signs in', async () => {
  const next = 'a new viewer password, longer';
  const viewer = await offlineContext(browser, server.url, { viewport: { width: 1280, height: 800 } });
  contexts.push(viewer);
  const own = viewer.page;
  const signIn = async (target: Page, password: string) => {
    await target.goto('/');
    await target.getByLabel('Username').fill(VIEWER.username);
    await target.getByLabel('Password').fill(password);
    await target.getByRole('button', { name: 'Sign in' }).click();
    await target.locator('table.backups').waitFor();
  };
  await signIn(own, VIEWER.password);
  await own.getByRole('link', { name: 'Accounts' }).click();
  // A viewer has their own password, and no accounts or tokens to manage.
  assert.equal(await own.getByRole('form', { name: 'Create an API token' }).count(), 0);
  const current = own.getByLabel('Current password');
  await current.fill('not the password at all');
  await own.getByLabel('New password').fill(next);
  await own.getByRole('button', { name: 'Change password' }).click();
  await own.locator('input[aria-invalid="true"]').waitFor();
  assert.equal(await current.getAttribute('aria-invalid'), 'true', 'the error is at the current password');
  assert.notEqual(await own.getByRole('alert').first().textContent(), '');

  await current.fill(VIEWER.password);
  await own.getByLabel('New password').fill(next);
  await own.getByRole('button', { name: 'Change password' }).click();
  await own
    .getByRole('status')
    .getByText(/Password changed/)
    .waitFor();

  const fresh = await offlineContext(browser, server.url, { viewport: { width: 1280, height: 800 } });
  contexts.push(fresh);
  await signIn(fresh.page, next);
  assertOfflineAndClean();
});

test('GraphiQL at /graphql renders offline, with the backups and status query, and runs a subscription', async (t) => {
  const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip' } });
  const html = await response.text();
  assert.equal(response.headers.get('content-encoding'), 'gzip');
  const sent = Number(response.headers.get('content-length'));
  assert.ok(sent > 0 && sent < html.length / 2, `gzipped: ${sent} bytes sent for ${html.length}`);
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i, 'no asset from another host');
  assert.match(html, /http-equiv="Content-Security-Policy"/);
  assert.deepEqual(validate(buildSchema(await readFile(path.join(ROOT, 'schema.graphql'), 'utf8')), parse(GRAPHIQL_DEFAULT_QUERY)), []);

  const started = Date.now();
  await page.goto('/graphql');
  await page.locator('.graphiql-container').first().waitFor();
  await page.getByText('BackupsAndStatus').first().waitFor();
  t.diagnostic(`GraphiQL (${sent} bytes gzipped, ${html.length} bytes) rendered in ${Date.now() - started} ms`);
  await page.locator('.graphiql-execute-button').click();
  await page.getByText('"totalCount"').first().waitFor();

  // The restore job followed above, over graphql-ws, signed in by the session cookie.
  await page.locator('.graphiql-query-editor .monaco-editor').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(
    `subscription Progress { restoreProgress(jobId: "${made.restoreJob}") { phase tablesDone job { status } } }`,
  );
  // GraphiQL reads the operation's name a moment after the edit: the tab shows it then.
  await page.getByRole('tab', { name: 'Progress' }).waitFor();
  await page.locator('.graphiql-execute-button').click();
  await page.getByText('"SUCCEEDED"').first().waitFor();
  assertOfflineAndClean();
});

test('a new install restores an archive from its backup folder before the first account exists', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-console-new-install-'));
  await mkdir(path.join(dataDir, 'backups'));
  await copyFile(archivePath(server, made.withMedia), path.join(dataDir, 'backups', made.withMedia));
  const fresh = await startServer({ dataDir, signIn: false });
  try {
    const install = await offlineContext(browser, fresh.url);
    contexts.push(install);
    const setup = install.page;
    await setup.goto('/setup');
    await setup.getByLabel('Setup code').fill(fresh.setupCode!);
    await setup.getByRole('button', { name: 'Continue' }).click();
    await setup
      .locator(`tr[data-backup-id="${made.withMedia}"]`)
      .getByRole('button', { name: /^Restore/ })
      .click();
    const dialog = setup.getByRole('dialog', { name: 'Restore this backup?' });
    await dialog.getByLabel('Type RESTORE to confirm').fill('RESTORE');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    const outcome = setup.getByTestId('restore-outcome');
    await outcome.waitFor({ timeout: 60_000 });
    assert.match((await outcome.textContent())!, /Restore finished/);

    await setup.getByLabel('Username').fill(OWNER.username);
    await setup.getByLabel('Password', { exact: true }).fill(OWNER.password);
    await setup.getByLabel('Password again').fill(OWNER.password);
    await setup.getByRole('button', { name: 'Create account' }).click();
    await setup.locator(`tr[data-backup-id="${made.withMedia}"]`).waitFor();
    assertOfflineAndClean();
  } finally {
    await fresh.close();
  }
});

test('the backups list, as the README shows it', async (t) => {
  await page.goto('/');
  await page.locator('table.backups').waitFor();
  t.diagnostic(`screenshot: ${await screenshot('backups-list.png', { fullPage: true })}`);
});
