import { planProject } from '../../execute/open-project.js';
import { listRemoteCache, remoteIndexKey } from '../../remote/remote-cache.js';
import { openForRemote } from '../remote-command.js';
import { formatBytes } from '../progress/describe-event.js';

/**
 * `vidbuild remote status`: what the team's remote cache holds (entries,
 * objects, total size) and which of this manifest's targets it could serve:
 * its inputs' entry is there, or every asset videos.lock records for it.
 * Read-only. Exit 0 when shown, 1 when the remote cannot be read.
 */
export interface RemoteTargetRow {
  readonly target: string;
  readonly there: boolean;
}

export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const opened = await openForRemote(opts, { lockFor: undefined, remote: true });
  if (!opened.ok) return opened.exitCode;
  const { project, store } = opened;
  if (store === undefined) return 1;
  const listed = await listRemoteCache(store);
  if (!listed.ok) {
    process.stderr.write(`${listed.error.message}\n`);
    return 1;
  }
  const { entries, objects } = listed.value;
  const indexKeys = new Set(entries.map((e) => remoteIndexKey(e.fingerprint)));
  const shas = new Set<string>(objects.map((o) => o.sha256));
  const { plan } = await planProject(project, {});
  const rows: RemoteTargetRow[] = [];
  for (const s of plan.steps) {
    if (s.action === 'orphan') continue;
    const locked = Object.values(s.locked?.assets ?? {});
    const byLock = s.locked?.fingerprint === s.fingerprint && locked.length > 0 && locked.every((a) => a !== undefined && shas.has(a.sha256));
    rows.push({ target: s.name, there: (!s.provisional && indexKeys.has(remoteIndexKey(s.fingerprint))) || byLock });
  }
  const bytes = objects.reduce((n, o) => n + o.bytes, 0);
  if (opts['json'] === true) {
    process.stdout.write(`${JSON.stringify({ ok: true, remote: store.url, entries: entries.length, objects: objects.length, bytes, targets: rows }, null, 2)}\n`);
    return 0;
  }
  const there = rows.filter((r) => r.there).length;
  const out = [
    `remote ${store.url}: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, ${objects.length} ${objects.length === 1 ? 'object' : 'objects'}, ${formatBytes(bytes)}`,
    `this manifest: ${there} of ${rows.length} targets there`,
    ...rows.filter((r) => !r.there).map((r) => `  ${r.target}: not there`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
