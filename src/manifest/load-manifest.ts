import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { splitBaseUrl } from './provider-checks.js';
import { isProjectPath, locateInProject } from './path-safety.js';
import { lockfileNameForManifest } from '../lock/lockfile-path.js';
import { err, ok, type Result } from '../core/result.js';
import { distinctDiagnostics, errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import type { Manifest, ManifestRemote, ProjectPath, ProviderConfig } from './manifest.js';
import { shippedCapabilities, type Capabilities } from './capabilities.js';
import { checkFilesOnDisk, probeSourceVideos, sourceSeconds } from './file-checks.js';
import { inputsThatAreOutputs } from './input-output-clash.js';
import { normalizeSeconds } from './normalize-seconds.js';
import { parseManifestFast } from './yaml/fast-reader.js';
import type { ManifestLocator } from './locator.js';
import { readBoundedText } from './read-bounded.js';
import { manifestSharingLock } from './lock-sharing.js';
import type { RawManifest, RawProvider } from './raw-manifest.js';
import { validateSchema } from './schema-validate.js';
import { checkSemantics, sourceFilesOf } from './semantic-checks.js';

/** A manifest that passed every check, and the warnings it still deserves. */
export interface LoadedManifest {
  readonly manifest: Manifest;
  readonly warnings: readonly Diagnostic[];
}

export interface LoadManifestOptions {
  /** Folder paths in messages are relative to (default: process.cwd()). */
  readonly cwd?: string;
  /** Override the shipped capability table (tests). */
  readonly capabilities?: Capabilities;
}

/**
 * Reads, parses and validates a `videos.yaml`: bounded read, YAML with
 * positions, JSON Schema, then the semantic and disk checks. Returns every
 * error found (sorted by position), or the resolved manifest. Does not hash
 * files and never prints.
 *
 * Each stage only runs when the previous one passed: a schema error would
 * make semantic errors misleading, and broken YAML has no data to check.
 */
export async function loadManifest(
  file: string,
  options: LoadManifestOptions = {},
): Promise<Result<LoadedManifest, readonly Diagnostic[]>> {
  const cwd = options.cwd ?? process.cwd();
  const absFile = path.resolve(cwd, file);
  const display = displayPath(file, absFile, cwd);
  const projectDir = path.dirname(absFile);

  // A manifest that is a symlink out of its folder would make vidbuild read
  // (and quote in errors) a file outside the project: `.env`, a password file.
  const where = await realpath(projectDir)
    .then((real) => locateInProject(projectDir, real, path.basename(absFile) as ProjectPath))
    .catch(() => ({ kind: 'missing' as const }));
  if (where.kind === 'outside') {
    return err([
      errorDiagnostic(
        'symlink-outside',
        `${display} is a symlink leading outside its folder; vidbuild reads only inside the manifest's folder: pass the real file with -f, or move it into the project`,
      ),
    ]);
  }
  const text = await readBoundedText(absFile, display);
  if (!text.ok) return err([text.error]);
  const shared = await manifestSharingLock(absFile, display);
  if (shared !== undefined) return err([shared]);

  // The fast reader handles plain manifests, with the same data and positions
  // as the full parser (test/manifest/fast-reader.test.ts holds it to that), so
  // its diagnostics stand: a large manifest with one typo is not parsed twice.
  // Whatever it declines (anchors, block scalars, duplicate keys, anything
  // malformed) goes through the full YAML parser.
  const fast = parseManifestFast(text.value, display);
  if (fast !== undefined) return checkParsed(fast.data, fast.locator, [], projectDir, absFile, options);

  // Imported here: the full parser costs ~25 ms to load, which a plain manifest never needs.
  const { parseManifestYaml } = await import('./yaml/parse-yaml.js');
  const parsed = parseManifestYaml(text.value, display);
  if (!parsed.ok) return err(capped(sortByPosition(distinctDiagnostics(parsed.error))));
  return checkParsed(parsed.value.data, parsed.value.locator, parsed.value.errors, projectDir, absFile, options);
}

/** Schema, semantic and disk checks of parsed data; `early` are the parser's non-fatal errors (duplicate keys). */
async function checkParsed(
  data: unknown,
  locator: ManifestLocator,
  early: readonly Diagnostic[],
  projectDir: string,
  absFile: string,
  options: LoadManifestOptions,
): Promise<Result<LoadedManifest, readonly Diagnostic[]>> {
  normalizeSeconds(data);
  const schema = validateSchema(data, locator);
  if (schema.kind === 'invalid') return err(capped(sortByPosition([...early, ...schema.errors])));
  const raw = schema.raw;
  const broken =
    schema.kind === 'partial'
      ? { targets: schema.brokenTargets, characters: schema.brokenCharacters }
      : { targets: new Set<string>(), characters: new Set<string>() };

  // Facts from disk the checks need (the length of each edit's or extension's source file), read first.
  const sources = await probeSourceVideos(projectDir, sourceFilesOf(raw));
  const semantic = checkSemantics(raw, locator, options.capabilities ?? shippedCapabilities(), broken, { sourceFileSeconds: sourceSeconds(sources) });
  const disk = [
    ...(await checkFilesOnDisk(projectDir, semantic.fileChecks, semantic.outDir, locator, sources, lockfileOf(absFile))),
    ...(await inputsThatAreOutputs(projectDir, semantic.fileChecks, semantic.targets, locator)),
  ];
  const diskErrors = disk.filter((d) => d.severity === 'error');
  const errors = [...early, ...(schema.kind === 'partial' ? schema.errors : []), ...semantic.errors, ...diskErrors];
  if (errors.length > 0) return err(capped(sortByPosition(distinctDiagnostics(errors))));

  const manifest: Manifest = {
    file: absFile,
    projectDir,
    version: 1,
    outDir: semantic.outDir.path,
    concurrency: raw.concurrency,
    retryFailed: raw.retryFailed === true,
    provider: providerOf(raw.provider),
    remote: remoteOf(raw.remote),
    pricing: raw.pricing ?? {},
    characters: semantic.characters,
    targets: semantic.targets,
  };
  return ok({ manifest, warnings: sortByPosition([...semantic.warnings, ...disk.filter((d) => d.severity === 'warning')]) });
}

function remoteOf(r: RawManifest['remote']): ManifestRemote | undefined {
  if (r === undefined) return undefined;
  if (typeof r === 'string') return { url: r, endpoint: undefined, region: undefined, pathStyle: undefined };
  return { url: r.url, endpoint: r.endpoint, region: r.region, pathStyle: r.pathStyle };
}

function providerOf(p: RawProvider | undefined): ProviderConfig | undefined {
  if (p === undefined) return undefined;
  const split = p.baseURL === undefined ? undefined : splitBaseUrl(p.baseURL);
  return {
    baseURL: split?.baseURL,
    apiKeyEnv: p.apiKeyEnv,
    apiKeyHeader: p.apiKeyHeader,
    headers: { ...p.headers },
    query: { ...split?.query, ...p.query },
  };
}

/** The path as the user should see it: relative to cwd when inside it, else as given. */
export function displayPath(given: string, absFile: string, cwd: string): string {
  const rel = path.relative(cwd, absFile);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  return given;
}


/** More than this many errors are summarized: nobody reads the 200,001st line. */
export const MAX_DIAGNOSTICS = 200;

function capped(list: readonly Diagnostic[]): Diagnostic[] {
  if (list.length <= MAX_DIAGNOSTICS) return [...list];
  const rest = list.length - MAX_DIAGNOSTICS;
  return [...list.slice(0, MAX_DIAGNOSTICS), errorDiagnostic('too-many-errors', `... and ${rest} more error${rest === 1 ? '' : 's'} not shown`)];
}

/** Diagnostics in reading order; ones without a location first. Stable for equal positions. */
export function sortByPosition(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => {
    const la = a.location;
    const lb = b.location;
    if (la === undefined || lb === undefined) return la === undefined ? (lb === undefined ? 0 : -1) : 1;
    return la.line - lb.line || la.col - lb.col;
  });
}

/** The manifest's lockfile, as a path in its project (it sits beside the manifest). */
function lockfileOf(absFile: string): ProjectPath | undefined {
  const name = lockfileNameForManifest(absFile);
  return isProjectPath(name) ? name : undefined;
}
