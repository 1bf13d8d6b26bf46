import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import type { ManifestRemote } from '../manifest/manifest.js';
import type { ObjectStore } from './object-store.js';
import { resolveRemote } from './remote-config.js';

/**
 * The remote a run uses (`--remote` > `VIDBUILD_REMOTE` > manifest), or
 * undefined when there is none. Only resolves and builds the client: it
 * makes no request, so a command that does not need the remote never waits
 * on it. Whether it answers is `store.probe()`'s to say. The SDK is loaded
 * only when there is a remote: importing it costs about half a second, which
 * every apply without one would pay.
 */
export async function openRemote(sources: {
  readonly flag?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly manifest?: ManifestRemote | undefined;
}): Promise<Result<ObjectStore | undefined, Diagnostic>> {
  const settings = resolveRemote(sources);
  if (!settings.ok) return err(errorDiagnostic('bad-remote', settings.error));
  if (settings.value === undefined) return ok(undefined);
  const { createS3ObjectStore } = await import('./s3-object-store.js');
  return ok(createS3ObjectStore(settings.value));
}

/**
 * For the commands that exist only for the remote (push, remote status,
 * gc --remote): a remote must be configured, and answer its probe. One
 * line either way.
 */
export async function requireRemote(sources: Parameters<typeof openRemote>[0]): Promise<Result<ObjectStore, Diagnostic>> {
  const opened = await openRemote(sources);
  if (!opened.ok) return opened;
  if (opened.value === undefined) {
    return err(errorDiagnostic('no-remote', 'no remote cache: set `remote: s3://bucket/prefix` in the manifest, VIDBUILD_REMOTE, or pass --remote'));
  }
  const probed = await opened.value.probe();
  if (!probed.ok) return err(errorDiagnostic(`remote-${probed.error.code}`, probed.error.message));
  return ok(opened.value);
}
