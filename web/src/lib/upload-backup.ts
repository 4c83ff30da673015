// uploadBackup as a GraphQL multipart request, sent with XMLHttpRequest for its upload progress
// events; the CSRF header is what the server asks of a request a form could also send.
import { ConsoleUploadBackupDocument, type ConsoleUploadBackupMutation } from '../generated/graphql.ts';
import { RequestError, resultOf } from './request.ts';

export function uploadBackup(
  file: File,
  passphrase: string | null,
  onProgress: (sentBytes: number, totalBytes: number) => void,
): Promise<ConsoleUploadBackupMutation['uploadBackup']> {
  const form = new FormData();
  const variables = { input: { file: null, passphrase } };
  form.set('operations', JSON.stringify({ query: ConsoleUploadBackupDocument.toString(), variables }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', file, file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('x-graphql-yoga-csrf', '1');
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    xhr.addEventListener('load', () => {
      try {
        resolve(resultOf<ConsoleUploadBackupMutation>(xhr.status, xhr.response).uploadBackup);
      } catch (error) {
        reject(error as Error);
      }
    });
    xhr.addEventListener('error', () => reject(new RequestError('The upload was cut off: check the connection and try again.', 'NETWORK')));
    xhr.send(form);
  });
}
