import { readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorDiagnostic } from '../../core/diagnostic.js';
import { displayPath } from '../../manifest/load-manifest.js';
import { SCHEMA_FILE } from '../../manifest/schema-validate.js';
import { packagePath } from '../../core/package-paths.js';
import { schemaModeline } from '../../manifest/schema-modeline.js';
import { starterManifest, withGitignoreEntry } from '../../manifest/starter-manifest.js';

function errnoCode(e: unknown): string {
  return e instanceof Error && 'code' in e ? String(e.code) : '';
}

/**
 * `vidbuild init [-f FILE] [--force]`: writes a starter manifest (never over
 * an existing one without --force) and makes git ignore `.vidbuild/`.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const cwd = process.cwd();
  const absFile = path.resolve(cwd, file);
  const shown = displayPath(file, absFile, cwd);
  const projectDir = path.dirname(absFile);
  const modeline = await schemaModeline(projectDir, SCHEMA_FILE, await packageName());
  const text = starterManifest(modeline.ref);

  try {
    // 'wx' refuses an existing file atomically, so two inits cannot both write.
    await writeFile(absFile, text, { flag: opts['force'] === true ? 'w' : 'wx' });
  } catch (e: unknown) {
    switch (errnoCode(e)) {
      case 'EEXIST':
        throw new UserError(errorDiagnostic('manifest-exists', `${shown} already exists; use --force to overwrite it`));
      case 'ENOENT':
        throw new UserError(errorDiagnostic('no-such-directory', `${shown}: folder ${path.dirname(shown)} does not exist`));
      case 'EISDIR':
        throw new UserError(errorDiagnostic('manifest-is-directory', `${shown} is a directory`));
      default:
        throw e;
    }
  }
  process.stdout.write(`wrote ${shown}\n`);
  if (modeline.note !== undefined) process.stdout.write(`note: ${modeline.note}\n`);

  const gitignore = path.join(projectDir, '.gitignore');
  if (!(await insideProject(projectDir, gitignore))) {
    process.stdout.write(`${displayPath(gitignore, gitignore, cwd)} leads outside the project; add .vidbuild/ to it yourself\n`);
    return 0;
  }
  let existing: string | undefined;
  try {
    existing = await readFile(gitignore, 'utf8');
  } catch (e: unknown) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const updated = withGitignoreEntry(existing);
  if (updated !== undefined) {
    await writeFile(gitignore, updated);
    process.stdout.write(`added .vidbuild/ to ${displayPath(gitignore, gitignore, cwd)}\n`);
  }
  return 0;
}

/** This package's name, as a project installs it (`node_modules/<name>`). */
async function packageName(): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(packagePath('package.json'), 'utf8'));
  const name = typeof pkg === 'object' && pkg !== null ? Reflect.get(pkg, 'name') : undefined;
  return typeof name === 'string' ? name : 'vidbuild';
}

/** Whether `file` (if it exists, through any symlink) stays inside `projectDir`: init writes nowhere else. */
async function insideProject(projectDir: string, file: string): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return true; // missing: it will be created here
  }
  const rel = path.relative(await realpath(projectDir), real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
