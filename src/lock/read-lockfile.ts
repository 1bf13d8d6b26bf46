import { readFile, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { packagePath } from '../core/package-paths.js';
import { ajv2020, schemaGuard, type SchemaGuard } from '../manifest/compiled-schemas.js';
import { err, ok, type Result } from '../core/result.js';
import { LOCKFILE_VERSION, emptyLockfile, type Lockfile } from './lockfile.js';
import { displayPath, lockfilePathFor } from './lockfile-path.js';
import { resolveInsideProject } from './inside-project.js';
import { countJsonKeys, countParsedKeys, positionAt, scanJson } from './json-position.js';

const FIX_HINT = 'fix it or move it away (vidbuild never overwrites a corrupt lockfile)';

let quick: SchemaGuard<Lockfile> | undefined;
let detailed: ValidateFunction<Lockfile> | undefined;

/**
 * A valid lock is checked by the fast validator that stops at the first
 * error (precompiled by the build, see compiled-schemas.ts); only an invalid
 * one pays for compiling the validator that collects every error, to pick the
 * most telling.
 */
function quickLockValidator(): SchemaGuard<Lockfile> {
  quick ??= schemaGuard<Lockfile>('lock');
  return quick;
}

function detailedLockValidator(): ValidateFunction<Lockfile> {
  if (detailed === undefined) {
    const schema: unknown = JSON.parse(readFileSync(packagePath('schemas', 'videos.lock.schema.json'), 'utf8'));
    if (typeof schema !== 'object' || schema === null) throw new Error('videos.lock.schema.json is not an object');
    const Ajv2020 = ajv2020();
    detailed = new Ajv2020({ allErrors: true, strict: true }).compile<Lockfile>(schema);
  }
  return detailed;
}

/**
 * Reads `videos.lock` (given the manifest's folder, the manifest, or the lock
 * path). A missing lock is an empty one. Anything else that is not a valid
 * lock of a version this build understands is an error with its
 * `videos.lock:line:col`, and the caller must not write over it: the lock
 * records money spent.
 */
export async function readLockfile(where: string): Promise<Result<Lockfile, Diagnostic>> {
  const lockPath = lockfilePathFor(where);
  const shown = displayPath(lockPath);
  let bytes: Buffer;
  try {
    // Checked before reading, so a run never starts on a lock it could not write back.
    const inside = await resolveInsideProject(path.dirname(lockPath), lockPath, shown, 'the lockfile itself');
    // Lock errors share the `lock-` code prefix (lock-symlink-outside, lock-symlink-dangling).
    if (!inside.ok) return err({ ...inside.error, code: `lock-${inside.error.code}` });
    if (inside.value.kind === 'missing') return ok(emptyLockfile());
    // A FIFO would block readFile forever; stat never blocks.
    if (!(await stat(inside.value.real)).isFile()) {
      return err(errorDiagnostic('lock-unreadable', `${shown}: is not a regular file (a FIFO, socket, device or folder); the lockfile must be a file`));
    }
    bytes = await readFile(inside.value.real);
  } catch (e: unknown) {
    if (isErrno(e) && e.code === 'ENOENT') return ok(emptyLockfile());
    const why = isErrno(e) ? (e.code ?? e.message) : String(e);
    return err(errorDiagnostic('lock-unreadable', `${shown}: cannot read the lockfile (${why})`));
  }
  return parseLockfile(bytes, shown);
}

/** Parses and checks lockfile bytes; `shown` names the file in messages. */
export function parseLockfile(bytes: Uint8Array, shown: string): Result<Lockfile, Diagnostic> {
  const at = (text: string, offset: number) => ({ file: shown, ...positionAt(text, offset) });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return err(errorDiagnostic('lock-corrupt', `${shown} is not UTF-8 text; ${FIX_HINT}`, { file: shown, line: 1, col: 1 }));
  }
  if (text.trim() === '') {
    return err(errorDiagnostic('lock-corrupt', `${shown} is empty (truncated?); ${FIX_HINT}`, { file: shown, line: 1, col: 1 }));
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const marker = /^(?:<{7}|={7}|>{7})(?: |$)/m.exec(text);
    if (marker !== null) {
      return err(
        errorDiagnostic(
          'lock-conflict',
          `${shown} has unresolved git merge conflict markers; resolve them keeping one entry per target (each records a paid job), then run again`,
          at(text, marker.index),
        ),
      );
    }
    const scan = scanJson(text);
    const offset = 'error' in scan ? scan.error.offset : 0;
    const why = 'error' in scan ? scan.error.message : 'invalid JSON';
    return err(errorDiagnostic('lock-corrupt', `not valid JSON: ${why}; ${FIX_HINT}`, at(text, offset)));
  }
  // JSON.parse keeps the last of a repeated key: a merge that kept both sides
  // of an entry would silently lose one job (and a later write would make it final).
  if (countJsonKeys(text) !== countParsedKeys(data)) {
    const scan = scanJson(text, undefined, { duplicates: true });
    if ('error' in scan) return err(errorDiagnostic('lock-duplicate-key', `${scan.error.message}; ${FIX_HINT}`, at(text, scan.error.offset)));
  }

  const version = typeof data === 'object' && data !== null && !Array.isArray(data) ? Reflect.get(data, 'lockfileVersion') : undefined;
  if (version !== LOCKFILE_VERSION) {
    const where = pointerOffset(text, '/lockfileVersion') ?? 0;
    const msg =
      typeof version === 'number' && version > LOCKFILE_VERSION
        ? `lockfileVersion ${version} was written by a newer vidbuild (this one reads ${LOCKFILE_VERSION}); upgrade vidbuild, or move the lockfile away`
        : `lockfileVersion must be ${LOCKFILE_VERSION} (got ${JSON.stringify(version) ?? 'nothing'}); ${FIX_HINT}`;
    return err(errorDiagnostic('lock-version', msg, at(text, where)));
  }

  if (!quickLockValidator()(data)) {
    const validate = detailedLockValidator();
    validate(data);
    const first = mostSpecificError(validate.errors ?? []);
    const pointer = first?.instancePath ?? '';
    const extra = first?.keyword === 'additionalProperties' ? ` (${String(Reflect.get(first.params, 'additionalProperty'))})` : '';
    const what = `${pointer === '' ? 'lockfile' : pointer} ${first === undefined ? 'is invalid' : lockErrorText(first, validate.errors ?? [], data)}${extra}`;
    return err(errorDiagnostic('lock-invalid', `${what}; ${FIX_HINT}`, at(text, pointerOffset(text, pointer) ?? 0)));
  }

  const escape = firstEscapingPath(data);
  if (escape !== undefined) {
    return err(
      errorDiagnostic(
        'lock-path-escape',
        `${escape.path} points outside the project; vidbuild only writes inside the manifest's folder. ${FIX_HINT}`,
        at(text, pointerOffset(text, escape.pointer) ?? 0),
      ),
    );
  }
  return ok(data);
}

/**
 * ajv reports every branch of a `oneOf` (intent vs job); the branch whose
 * `state` does not match is noise. Of the rest, the deepest error is the one
 * that names what is actually wrong.
 */
function mostSpecificError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const wrongBranches = errors
    .filter((e) => e.keyword === 'const' && e.instancePath.endsWith('/state'))
    .map((e) => /^(.*\/oneOf\/\d+)\//.exec(e.schemaPath)?.[1])
    .filter((p): p is string => p !== undefined);
  const useful = errors.filter((e) => e.keyword !== 'oneOf' && !wrongBranches.some((b) => e.schemaPath.startsWith(`${b}/`)));
  const pool = useful.length > 0 ? useful : errors;
  let best: ErrorObject | undefined;
  for (const e of pool) if (best === undefined || e.instancePath.length > best.instancePath.length) best = e;
  return best;
}

/**
 * ajv's message, in words a person can act on: its `const` and `pattern`
 * messages ("must be equal to constant", "must match pattern \"^video_…\"")
 * name neither the allowed values nor the form.
 */
function lockErrorText(e: ErrorObject, all: readonly ErrorObject[], data: unknown): string {
  // Only a scalar is quoted: a hand-edited lock may nest a value thousands deep (JSON.stringify would overflow the stack).
  const at = valueAtPointer(data, e.instancePath);
  const value = at !== null && typeof at === 'object' ? (Array.isArray(at) ? 'a list' : 'a map') : (JSON.stringify(at) ?? 'nothing');
  const got = value.length > 40 ? `${value.slice(0, 37)}...` : value;
  if (e.keyword === 'const') {
    const allowed = [...new Set(all.filter((o) => o.keyword === 'const' && o.instancePath === e.instancePath).map((o) => JSON.stringify(Reflect.get(o.params, 'allowedValue'))))];
    return `must be ${allowed.join(' or ')} (got ${got})`;
  }
  if (e.keyword === 'pattern') return `is not in the form vidbuild writes (got ${got})`;
  return e.message ?? 'is invalid';
}

function valueAtPointer(data: unknown, pointer: string): unknown {
  let at: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    at = typeof at === 'object' && at !== null ? Reflect.get(at, key) : undefined;
  }
  return at;
}

function pointerOffset(text: string, pointer: string): number | undefined {
  const scan = scanJson(text, pointer);
  return 'offset' in scan ? scan.offset : undefined;
}

/**
 * A tampered or hand-edited lock must not make vidbuild write or delete
 * outside the project: every path it names is checked lexically here, and
 * disk-facts refuses symlinks that lead out.
 */
function firstEscapingPath(lock: Lockfile): { readonly path: string; readonly pointer: string } | undefined {
  for (const [name, entry] of Object.entries(lock.videos)) {
    for (const [variant, asset] of Object.entries(entry.assets)) {
      if (asset !== undefined && !isInsideProject(asset.path)) {
        return { path: asset.path, pointer: `/videos/${escapePointer(name)}/assets/${variant}/path` };
      }
    }
  }
  for (const [name, entry] of Object.entries(lock.characters)) {
    if (!isInsideProject(entry.video)) return { path: entry.video, pointer: `/characters/${escapePointer(name)}/video` };
  }
  return undefined;
}

/** Relative, POSIX, no `..` segment, no drive letters or backslashes, no NUL. */
export function isInsideProject(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '..');
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && 'code' in e;
}
