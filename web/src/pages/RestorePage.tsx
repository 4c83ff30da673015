// A restore's own page (/restores/<job id>): reloading it picks the progress up again.
import { Link } from '../components/Link.tsx';
import { RestoreProgressView } from '../components/RestoreProgressView.tsx';
import type { Role } from '../generated/graphql.ts';

export function RestorePage({ jobId, role }: { jobId: string; role: Role }) {
  return (
    <>
      <h1 tabIndex={-1}>Restore</h1>
      <RestoreProgressView jobId={jobId} canDownload={role === 'ADMIN'} />
      <p>
        <Link href="/">Back to the backups</Link>
      </p>
    </>
  );
}
