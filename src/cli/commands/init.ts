import { lstat, mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
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
  // `-f site/` or `-f site` (a folder) names no file: path.resolve drops the
  // slash, so `site/` used to become a manifest *file* called `site`.
  if (/[\\/]$/.test(file) || (await isDirectory(absFile))) {
    const example = path.join(file.replace(/[\\/]+$/, ''), 'videos.yaml');
    throw new UserError(errorDiagnostic('manifest-is-directory', `${shown} is a folder; name the manifest file, e.g. -f ${example}`));
  }
  if (!(await writableInProject(projectDir, absFile))) {
    throw new UserError(errorDiagnostic('manifest-symlink-out', `${shown} is a symlink leading outside the project or nowhere; init does not write through it`));
  }
  // With --force, opening a FIFO for writing waits for a reader forever, and a
  // device is no manifest: only a regular file is overwritten.
  const existingKind = await stat(absFile).then((st) => (st.isFile() ? 'file' : 'other'), () => 'none');
  if (existingKind === 'other') {
    throw new UserError(errorDiagnostic('manifest-not-a-file', `${shown} exists and is not a regular file (a pipe, socket or device); init does not write to it`));
  }
  // A new project in a new folder (`init -f site/videos.yaml`), as git init DIR does.
  await mkdir(projectDir, { recursive: true }).catch((e: unknown) => {
    throw new UserError(errorDiagnostic('no-such-directory', `${shown}: cannot create folder ${path.dirname(shown)} (${inTheWay(errnoCode(e)) ?? (errnoCode(e) || String(e))})`));
  });
  const modeline = await schemaModeline(projectDir, SCHEMA_FILE, await packageName());
  const text = starterManifest(modeline.ref);

  try {
    // 'wx' refuses an existing file atomically, so two inits cannot both write.
    await writeFile(absFile, text, { flag: opts['force'] === true ? 'w' : 'wx' });
  } catch (e: unknown) {
    switch (errnoCode(e)) {
      case 'EEXIST':
        throw new UserError(errorDiagnostic('manifest-exists', `${shown} already exists; use --force to overwrite it`));
      case 'EISDIR':
        throw new UserError(errorDiagnostic('manifest-is-directory', `${shown} is a directory`));
      default:
        // EACCES, EROFS, ENOSPC…: the user's to fix, not a bug; one line, no stack.
        if (errnoCode(e) !== '') throw new UserError(errorDiagnostic('manifest-unwritable', `${shown}: cannot write (${errnoCode(e)})`));
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
  // The manifest is written: a .gitignore that cannot be read or updated (a
  // folder, no permission) is a warning with what to do, not an internal error.
  const shownIgnore = displayPath(gitignore, gitignore, cwd);
  try {
    let existing: string | undefined;
    try {
      // Reading a FIFO would wait for a writer forever.
      if (!(await stat(gitignore)).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
      existing = await readFile(gitignore, 'utf8');
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    const updated = withGitignoreEntry(existing);
    if (updated !== undefined) {
      await writeFile(gitignore, updated);
      process.stdout.write(`added .vidbuild/ to ${shownIgnore}\n`);
    }
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === '') throw e;
    process.stderr.write(`warning: cannot update ${shownIgnore} (${code === 'EISDIR' || code === 'not a regular file' ? 'not a regular file' : code}); add .vidbuild/ to your ignore file yourself\n`);
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

async function isDirectory(file: string): Promise<boolean> {
  return stat(file).then((st) => st.isDirectory(), () => false);
}

/**
 * Whether writing `file` (with --force, which follows symlinks) lands inside
 * `projectDir`: a manifest that is a symlink out of the project, or dangling
 * (writing would create its target wherever it points), is refused.
 */
async function writableInProject(projectDir: string, file: string): Promise<boolean> {
  const st = await lstat(file).catch(() => undefined);
  if (st === undefined || !st.isSymbolicLink()) return true;
  const real = await realpath(file).catch(() => undefined);
  if (real === undefined) return false;
  const root = await realpath(projectDir);
  const rel = path.relative(root, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** mkdir -p answers EEXIST / ENOTDIR when a file sits where a folder on the way should be. */
function inTheWay(code: string): string | undefined {
  return code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : undefined;
}
