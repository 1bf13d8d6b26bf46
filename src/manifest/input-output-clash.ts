import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import type { ManifestLocator } from './locator.js';
import type { Target, TargetName } from './manifest.js';
import type { FileCheck } from './semantic-checks.js';

/**
 * A file the manifest reads must not be a file it writes. The semantic check
 * compares paths as written; a symlink inside the project (`clips -> out`)
 * makes `clips/a.mp4` target `a`'s output under another name, so this
 * compares real paths: each referenced file's, and each output's (its
 * folder's real path; the output itself may not exist yet).
 */
export async function inputsThatAreOutputs(
  projectDir: string,
  fileChecks: readonly FileCheck[],
  targets: ReadonlyMap<TargetName, Target>,
  locator: ManifestLocator,
): Promise<Diagnostic[]> {
  if (fileChecks.length === 0) return [];
  const producers = new Map<string, TargetName>();
  await Promise.all(
    [...targets.values()].flatMap((t) =>
      Object.values(t.outputs).map(async (rel) => {
        if (rel === undefined) return;
        const abs = path.join(projectDir, rel);
        const dir = await realpath(path.dirname(abs)).catch(() => undefined);
        if (dir !== undefined) producers.set(path.join(dir, path.basename(abs)), t.name);
      }),
    ),
  );
  const out: Diagnostic[] = [];
  for (const check of fileChecks) {
    const real = await realpath(path.join(projectDir, check.path)).catch(() => undefined);
    const producer = real === undefined ? undefined : producers.get(real);
    if (producer === undefined) continue;
    const output = targets.get(producer)?.outputs;
    // Written the same way: the semantic check has said so already.
    if (output !== undefined && Object.values(output).includes(check.path)) continue;
    out.push(
      errorDiagnostic(
        'input-is-output',
        `${check.field} ${check.path} is the output of target \`${producer}\` (through a symlink); derive from the target instead (e.g. \`edit: ${producer}\`)`,
        locator.valueOf(check.at),
      ),
    );
  }
  return out;
}
