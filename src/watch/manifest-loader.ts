import type { Diagnostic } from '../core/diagnostic.js';
import type { Result } from '../core/result.js';
import type { Manifest } from '../manifest/manifest.js';

/** The manifest loader's seam (src/manifest/load-manifest.ts, common.md). */
export type LoadManifest = (
  file: string,
  options?: { cwd?: string },
) => Promise<Result<{ readonly manifest: Manifest; readonly warnings: readonly Diagnostic[] }, readonly Diagnostic[]>>;

/**
 * The loader is written in parallel with watch; importing it through a
 * computed specifier keeps the build green until it lands. The guard only
 * checks it is a function: its type is the agreed seam.
 */
export async function importLoader(): Promise<LoadManifest> {
  const specifier = '../manifest/load-manifest.js';
  const mod: unknown = await import(specifier);
  const fn: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'loadManifest') : undefined;
  if (!isLoader(fn)) throw new Error('manifest/load-manifest.js does not export loadManifest');
  return fn;
}

function isLoader(f: unknown): f is LoadManifest {
  return typeof f === 'function';
}
