import type { RemoteTransfer } from '../../execute/run-cache.js';
import { countOf, formatBytes } from './describe-event.js';

/** The run's closing line about the remote: `remote s3://team/proj: restored 3 assets (12 MB), pushed 2 (8 MB)`. */
export function describeTransfer(t: RemoteTransfer): string {
  const parts: string[] = [];
  if (t.fetched.objects > 0) parts.push(`restored ${countOf(t.fetched.objects, 'asset')} (${formatBytes(t.fetched.bytes)})`);
  parts.push(`pushed ${countOf(t.pushed.objects, 'asset')} (${formatBytes(t.pushed.bytes)})`);
  if (t.unpushed > 0) parts.push(`${t.unpushed} ${t.unpushed === 1 ? 'entry' : 'entries'} not pushed (kept locally; run \`vidbuild push\` once the remote is back)`);
  return `remote ${t.url}: ${parts.join(', ')}`;
}
