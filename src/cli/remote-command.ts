import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { displayPath } from '../manifest/load-manifest.js';
import { openProject, type OpenProject } from '../execute/open-project.js';
import type { ObjectStore } from '../remote/object-store.js';
import { requireRemote } from '../remote/open-remote.js';

/**
 * The opening shared by push, remote status and gc: the project (read-only,
 * or holding the run lock when the command deletes), and with `remote`, the
 * probed store. On failure the diagnostics are printed (as one JSON document
 * on stdout with --json, like plan and status) and the exit code returned.
 */
export async function openForRemote(
  opts: Record<string, unknown>,
  o: { readonly lockFor: string | undefined; readonly remote: boolean },
): Promise<{ readonly ok: true; readonly project: OpenProject; readonly store: ObjectStore | undefined } | { readonly ok: false; readonly exitCode: number }> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const fail = (ds: readonly Diagnostic[]): { ok: false; exitCode: number } => {
    if (opts['json'] === true) process.stdout.write(`${JSON.stringify({ file: displayPath(file, resolve(file), process.cwd()), ok: false, diagnostics: ds }, null, 2)}\n`);
    else for (const d of ds) process.stderr.write(`${formatDiagnostic(d)}\n`);
    return { ok: false, exitCode: 1 };
  };
  const opened = await openProject({ file, cwd: process.cwd(), lockFor: o.lockFor });
  if (!opened.ok) return fail(opened.error);
  const project = opened.value;
  if (opts['json'] !== true) for (const d of project.warnings) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!o.remote) return { ok: true, project, store: undefined };
  const flag = typeof opts['remote'] === 'string' ? opts['remote'] : undefined;
  const store = await requireRemote({ flag, env: process.env, manifest: project.manifest.remote });
  if (!store.ok) {
    await project.runLock?.release();
    return fail([store.error]);
  }
  return { ok: true, project, store: store.value };
}
