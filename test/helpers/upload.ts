// uploadBackup as browser clients send it: a GraphQL multipart request.
import { print } from 'graphql';
import { UploadBackupDocument, type UploadBackupMutation } from '../generated/graphql.ts';
import type { TestServer } from './server.ts';

export interface UploadResponse {
  status: number;
  body: { data?: UploadBackupMutation; errors?: unknown[] };
}

export async function uploadArchive(
  server: Pick<TestServer, 'url' | 'authHeaders'>,
  bytes: Buffer,
  options: { clientName?: string; passphrase?: string } = {},
): Promise<UploadResponse> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({ query: print(UploadBackupDocument), variables: { input: { file: null, passphrase: options.passphrase } } }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), options.clientName ?? 'backup.tar.gz');
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { 'x-graphql-yoga-csrf': '1', ...server.authHeaders },
  });
  return { status: response.status, body: (await response.json()) as UploadResponse['body'] };
}
