import path from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import { displayPath, loadManifest } from '../../manifest/load-manifest.js';

/**
 * `vidbuild validate [-f FILE] [--json]`: every problem, one line each on
 * stderr (`file:line:col: message`); exit 1 when there are errors, 0 otherwise
 * (warnings alone do not fail). With --json, one JSON document on stdout.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const cwd = process.cwd();
  const shown = displayPath(file, path.resolve(cwd, file), cwd);
  const loaded = await loadManifest(file, { cwd });
  const errors: readonly Diagnostic[] = loaded.ok ? [] : loaded.error;
  const warnings: readonly Diagnostic[] = loaded.ok ? loaded.value.warnings : [];

  if (opts['json'] === true) {
    const summary = loaded.ok
      ? { targets: loaded.value.manifest.targets.size, characters: loaded.value.manifest.characters.size }
      : undefined;
    process.stdout.write(`${JSON.stringify({ file: shown, ok: loaded.ok, ...summary, diagnostics: [...errors, ...warnings] }, null, 2)}\n`);
    return loaded.ok ? 0 : 1;
  }

  for (const d of [...errors, ...warnings]) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!loaded.ok) return 1;
  const { targets, characters } = loaded.value.manifest;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const warned = warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : '';
  process.stdout.write(`${shown}: ok (${plural(targets.size, 'target')}, ${plural(characters.size, 'character')}${warned})\n`);
  return 0;
}
