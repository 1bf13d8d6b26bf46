import path from 'node:path';
import { formatDiagnostic } from '../core/diagnostic.js';
import type { LoadedManifest, loadManifest } from '../manifest/load-manifest.js';
import { openFileWatcher } from './file-watcher.js';
import type { PreviewStore } from './preview-state.js';
import { referencedInText } from './referenced-in-text.js';
import type { WatchEvent } from './watch-events.js';
import { Watcher } from './watcher.js';

/**
 * Before the first apply, when watch was started on a manifest that is not
 * valid yet (half-written, or naming an image not exported yet). The
 * manifest decides the provider, so no backend exists and nothing can run:
 * each save is re-read (debounced, by the same Watcher as the session) and
 * its error shown, until one is valid. The files the invalid text names are
 * watched too, so creating the missing one is enough.
 *
 * Never prints: everything is a WatchEvent for the CLI to render.
 */
export interface ManifestWaitOptions {
  /** Absolute path of the manifest. */
  readonly manifestFile: string;
  readonly cwd: string;
  readonly loadManifest: typeof loadManifest;
  readonly debounceMs: number;
  readonly store: PreviewStore | undefined;
  readonly onEvent: (event: WatchEvent) => void;
  readonly onError: (error: Error) => void;
}

export interface ManifestWait {
  /** The first valid manifest, or undefined when stopped before there was one. */
  readonly loaded: Promise<LoadedManifest | undefined>;
  stop(): void;
}

export async function waitForValidManifest(o: ManifestWaitOptions): Promise<ManifestWait> {
  let found: LoadedManifest | undefined;
  let watcher: Watcher | undefined;
  const files = await openFileWatcher(new Set([o.manifestFile]), {
    root: path.dirname(o.manifestFile),
    onChange: (f) => watcher?.fileChanged(f),
    onError: o.onError,
  });
  const display = (f: string) => {
    const rel = path.relative(o.cwd, f);
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? f : rel;
  };
  const w = new Watcher({
    debounceMs: o.debounceMs,
    runCycle: async (request) => {
      o.onEvent({ type: 'cycle-start', cycle: request.number, changed: request.changed.map(display), retryFailed: false });
      const loaded = await o.loadManifest(o.manifestFile, { cwd: o.cwd });
      if (loaded.ok) {
        found = loaded.value;
        o.store?.setErrors([]);
        w.abort();
        return;
      }
      // Watch what the text names before showing the error, so a file created in reaction to it is seen.
      files.setFiles(new Set([o.manifestFile, ...(await referencedInText(o.manifestFile))]));
      o.onEvent({ type: 'manifest-invalid', diagnostics: loaded.error, beforeFirstApply: true });
      o.store?.setErrors(loaded.error.map(formatDiagnostic));
    },
  });
  watcher = w;
  return {
    loaded: w.start().then(() => found).finally(() => files.close()),
    stop: () => w.abort(),
  };
}
