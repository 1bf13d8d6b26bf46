import { LocalCache } from '../../cache/local-cache.js';
import { RemoteCache } from '../../remote/remote-cache.js';
import { pushLocalEntries } from '../../remote/push-cache.js';
import { openForRemote } from '../remote-command.js';
import { countOf, formatBytes } from '../progress/describe-event.js';

/**
 * `vidbuild push`: sends every local cache entry the remote lacks (objects
 * first, index last; what is there is skipped), e.g. after a run whose
 * pushes failed, or to seed a new bucket from a machine that has the cache.
 * Exit 0 when everything is there afterwards, 1 otherwise.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const opened = await openForRemote(opts, { lockFor: undefined, remote: true });
  if (!opened.ok) return opened.exitCode;
  const { project, store } = opened;
  if (store === undefined) return 1;
  const local = new LocalCache(project.manifest.projectDir);
  const report = await pushLocalEntries(new RemoteCache(store, local), await local.indexedFingerprints());
  if (opts['json'] === true) {
    process.stdout.write(`${JSON.stringify({ ok: report.failed === 0, remote: store.url, ...report }, null, 2)}\n`);
  } else {
    const upToDate = report.entries - report.pushedEntries - report.failed;
    process.stdout.write(
      `remote ${store.url}: pushed ${countOf(report.objects, 'asset')} (${formatBytes(report.bytes)}) in ${report.pushedEntries} ${report.pushedEntries === 1 ? 'entry' : 'entries'}; ${upToDate} already there${report.characters === 0 ? '' : `; ${countOf(report.characters, 'character')} in the remote`}\n`,
    );
    if (report.firstError !== undefined) process.stderr.write(`${report.failed} not pushed: ${report.firstError.message}\n`);
  }
  return report.failed === 0 ? 0 : 1;
}
