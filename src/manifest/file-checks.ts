import { realpath } from 'node:fs/promises';
import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../core/diagnostic.js';
import type { ProjectPath } from './manifest.js';
import { locateInProject, nearestExistingInside } from './path-safety.js';
import type { FileCheck } from './semantic-checks.js';
import type { ManifestLocator } from './locator.js';

/**
 * The disk half of validation: referenced files exist, are files, and do not
 * leave the project through a symlink; `outDir` does not either. Each distinct
 * path is resolved once, all in parallel.
 */
export async function checkFilesOnDisk(
  projectDir: string,
  fileChecks: readonly FileCheck[],
  outDir: { readonly path: ProjectPath; readonly location: SourceLocation | undefined },
  locator: ManifestLocator,
): Promise<Diagnostic[]> {
  const manifestLocation: SourceLocation = { file: locator.file, line: 1, col: 1 };
  const projectReal = await realpath(projectDir);
  const unique = [...new Set(fileChecks.map((c) => c.path))];
  const found = new Map(
    await Promise.all(unique.map(async (p) => [p, await locateInProject(projectDir, projectReal, p)] as const)),
  );
  const out: Diagnostic[] = [];
  for (const check of fileChecks) {
    const where = found.get(check.path);
    switch (where?.kind) {
      case 'file':
        break;
      case 'missing':
      case undefined:
        out.push(errorDiagnostic('missing-file', `${check.field}: file not found: ${check.path}`, locator.valueOf(check.at)));
        break;
      case 'directory':
        out.push(errorDiagnostic('not-a-file', `${check.field}: ${check.path} is a directory, not a file`, locator.valueOf(check.at)));
        break;
      case 'outside':
        out.push(errorDiagnostic('unsafe-path', `${check.field}: ${check.path} leads outside the project directory through a symlink`, locator.valueOf(check.at)));
        break;
    }
  }
  const dir = await nearestExistingInside(projectDir, projectReal, outDir.path);
  const at = outDir.location ?? manifestLocation;
  if (dir.kind === 'outside') {
    out.push(errorDiagnostic('unsafe-path', `\`outDir\` ${outDir.path} leads outside the project directory through a symlink`, at));
  } else if (dir.kind === 'file') {
    out.push(errorDiagnostic('not-a-directory', `\`outDir\` ${outDir.path} is a file, not a directory`, at));
  }
  return out;
}
