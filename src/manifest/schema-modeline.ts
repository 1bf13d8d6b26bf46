import { access, realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What the `# yaml-language-server: $schema=` modeline of a new manifest
 * names. The manifest is committed, so the value must work on every checkout,
 * not only on the machine that ran `vidbuild init`.
 *
 * yaml-language-server resolves a value that is neither `file:` nor `http…`
 * against the YAML file's own folder (redhat-developer/yaml-language-server
 * #499, getSchemaForResource), so a relative path is portable as long as it
 * stays inside the repository. In order of preference:
 *
 * 1. vidbuild installed in a `node_modules` of the repository (any ancestor
 *    up to the repository root, also when it is a symlink as with npm link or
 *    pnpm): the relative path through that `node_modules`.
 * 2. The schema itself inside the repository (vidbuild's own checkout, a
 *    vendored copy), not through a node_modules or dot-folder: the relative
 *    path to it.
 * 3. A Node project (package.json) that runs vidbuild from elsewhere (npx,
 *    global install): the relative path to where `npm install -D vidbuild`
 *    puts it, with a note to install it; the modeline is right for everyone
 *    once it is a dev dependency.
 * 4. Otherwise: a file URL to this machine's copy, with a note that it is
 *    machine-specific (there is no portable place to point to).
 *
 * The repository root is the nearest folder with `.git`, else with
 * `package.json`, else the manifest's folder.
 */
export interface SchemaModeline {
  readonly ref: string;
  /** Said to the user when the reference is not (yet) portable. */
  readonly note: string | undefined;
}

export const SCHEMA_IN_PACKAGE = path.join('schemas', 'videos.schema.json');

export async function schemaModeline(manifestDir: string, schemaFile: string, packageName: string): Promise<SchemaModeline> {
  const dir = await realpath(manifestDir).catch(() => path.resolve(manifestDir));
  const schema = await realpath(schemaFile).catch(() => path.resolve(schemaFile));
  const root = await repositoryRoot(dir);
  const installed = (d: string) => path.join(d, 'node_modules', packageName, SCHEMA_IN_PACKAGE);

  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = installed(d);
    if ((await realpath(candidate).catch(() => undefined)) === schema) return { ref: relativeRef(dir, candidate), note: undefined };
    if (d === root || path.dirname(d) === d) break;
  }
  if (isInside(root, schema) && !viaToolFolder(path.relative(root, schema))) return { ref: relativeRef(dir, schema), note: undefined };
  if (await exists(path.join(root, 'package.json'))) {
    return {
      ref: relativeRef(dir, installed(root)),
      note: `the schema modeline expects ${packageName} in node_modules: \`npm install --save-dev ${packageName}\` for editor completion`,
    };
  }
  return {
    ref: pathToFileURL(schemaFile).href,
    note: `the schema modeline names this machine's copy of ${packageName} (${schemaFile}); teammates may need to change it`,
  };
}

/** A POSIX path from `fromDir` to `file`, starting with `./` or `../`. */
export function relativeRef(fromDir: string, file: string): string {
  const posix = path.relative(fromDir, file).split(path.sep).join('/');
  return posix.startsWith('../') ? posix : `./${posix}`;
}

async function repositoryRoot(dir: string): Promise<string> {
  for (const marker of ['.git', 'package.json']) {
    for (let d = dir; ; d = path.dirname(d)) {
      if (await exists(path.join(d, marker))) return d;
      if (path.dirname(d) === d) break;
    }
  }
  return dir;
}

/**
 * A path through `node_modules` or a dot-folder (`~/.npm/_npx`, a global
 * prefix) is a tool's install, not part of the repository, even when the
 * "repository" is a home folder kept in git.
 */
function viaToolFolder(rel: string): boolean {
  return rel.split(path.sep).some((seg) => seg === 'node_modules' || seg.startsWith('.'));
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
