import { describeShard, parseShard, targetsInShard } from '../../plan/shard.js';
import path from 'node:path';
import { UserError, errorDiagnostic, formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import type { TargetName } from '../../manifest/manifest.js';
import { displayPath, loadManifest } from '../../manifest/load-manifest.js';
import { checkStateFolders } from '../../lock/state-folders.js';
import { readLockfile } from '../../lock/read-lockfile.js';
import { lockfilePathForManifest } from '../../lock/lockfile-path.js';
import { planProject } from '../../plan/plan-project.js';
import { isPaidAction, planHasChanges } from '../../plan/plan.js';
import { resolveRemote } from '../../remote/remote-config.js';
import type { S3Settings } from '../../remote/s3-object-store.js';
import type { SharedCache } from '../../plan/remote-facts.js';
import type { Result } from '../../core/result.js';
import { renderPlan } from '../../plan/render-plan.js';
import { renderPlanMarkdown } from '../../plan/render-plan-markdown.js';
import { planToJson } from '../../plan/plan-json.js';
import { isTargetName, unknownTargetNames } from '../../plan/target-selection.js';
import { colorsFor } from '../colors.js';

/**
 * `vidbuild plan`: load, read the lock, look at the disk, plan, print. Never
 * writes anything but the hash cache; never talks to the API (and so never
 * imports the SDK: a 10k-target plan must start fast).
 *
 * Exit codes: 0 ok; 1 error; with --detailed-exitcode, 2 when there are changes.
 *
 * With --json everything goes to stdout as one JSON document and nothing to
 * stderr, as `validate --json` does: the plan (with `ok: true`, and every
 * warning under `warnings`), or on any error `{ file, ok: false,
 * diagnostics }` in validate's shape, exit 1.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const cwd = process.cwd();
  const shown = displayPath(file, path.resolve(cwd, file), cwd);
  const format = opts['format'] === 'markdown' ? 'markdown' : opts['json'] === true || opts['format'] === 'json' ? 'json' : 'text';
  if (opts['json'] === true && opts['format'] !== undefined && opts['format'] !== 'json') {
    throw new UserError(errorDiagnostic('bad-option', `--json and --format ${String(opts['format'])} ask for two formats; give one`));
  }
  const json = format === 'json';
  const detailed = opts['detailedExitcode'] === true;
  const colors = colorsFor(process.stdout, opts['color'] === false || json);
  const errColors = colorsFor(process.stderr, opts['color'] === false);
  const printDiag = (d: Diagnostic): void => {
    if (json) return; // in the JSON document instead
    const line = formatDiagnostic(d);
    process.stderr.write(`${d.severity === 'warning' ? errColors.yellow(line) : line}\n`);
  };
  /** Reports errors (and the warnings so far) and gives the exit code. */
  const fail = (errors: readonly Diagnostic[], warnings: readonly Diagnostic[] = []): number => {
    if (json) process.stdout.write(`${JSON.stringify({ file: shown, ok: false, diagnostics: [...errors, ...warnings] }, null, 2)}\n`);
    else for (const d of errors) printDiag(d);
    return 1;
  };

  try {
    const loaded = await loadManifest(file, { cwd });
    if (!loaded.ok) return fail(loaded.error);
    const { manifest, warnings } = loaded.value;
    for (const w of warnings) printDiag(w);

    const targets = stringList(opts['target']);
    const replace = stringList(opts['replace']);
    const unknown = unknownTargetNames(manifest, [...(targets ?? []), ...(replace ?? [])]);
    if (unknown.length > 0) {
      const errors = unknown.map((u) => {
        const hint = u.suggestion === undefined ? '' : ` (did you mean ${u.suggestion}?)`;
        return errorDiagnostic('unknown-target', `no target named ${u.name} in ${path.relative(cwd, manifest.file) || manifest.file}${hint}`);
      });
      return fail(errors, warnings);
    }

    const shard = typeof opts['shard'] === 'string' ? parseShard(opts['shard']) : undefined;
    if (shard !== undefined && !shard.ok) return fail([errorDiagnostic('bad-shard', shard.error)], warnings);
    const known = targets?.filter((n): n is TargetName => isTargetName(manifest, n));
    const inShard = shard === undefined ? undefined : targetsInShard(manifest, shard.value).filter((n) => known === undefined || known.includes(n));

    const state = await checkStateFolders(manifest.projectDir);
    if (!state.ok) return fail([state.error], warnings);
    const lock = await readLockfile(lockfilePathForManifest(manifest.file));
    if (!lock.ok) return fail([lock.error], warnings);
    const planOptions = {
      targets: inShard ?? known,
      replace: replace?.filter((n): n is TargetName => isTargetName(manifest, n)),
      retryFailed: opts['retryFailed'] === true,
    };
    const remote = resolveRemote({ flag: typeof opts['remote'] === 'string' ? opts['remote'] : undefined, env: process.env, manifest: manifest.remote });
    if (!remote.ok) return fail([errorDiagnostic('bad-remote', remote.error)], warnings);
    let { plan, facts } = await planProject(manifest, lock.value, planOptions);
    // Said beside the plan, in every format: a plan that could not ask the remote may count as paid what it holds.
    const remoteWarnings: Diagnostic[] = [];
    // What would pay may already be in the team's remote cache: ask it (the SDK loads only then).
    if (remote.value !== undefined && plan.steps.some((s) => s.action !== 'orphan' && isPaidAction(s.action) && !s.provisional)) {
      const shared = await sharedCacheFor(remote.value, manifest.projectDir);
      const planned = shared.ok ? await planProject(manifest, lock.value, { ...planOptions, remote: shared.value }) : undefined;
      const problem = shared.ok ? planned?.remoteProblem : shared.error;
      if (problem !== undefined) remoteWarnings.push({ code: 'remote-unavailable', severity: 'warning', message: `${problem}; this plan does not count what the remote cache holds` });
      else if (planned !== undefined) ({ plan, facts } = planned);
    }
    const changes = planHasChanges(plan);

    for (const w of remoteWarnings) printDiag(w);
    for (const w of facts.warnings ?? []) printDiag(w);
    for (const w of plan.warnings ?? []) printDiag(w);
    if (json) {
      const data = planToJson(plan, changes, [...warnings, ...remoteWarnings, ...(facts.warnings ?? [])]);
      process.stdout.write(`${JSON.stringify({ file: shown, ok: true, ...data }, null, 2)}\n`);
    } else if (format === 'markdown') {
      process.stdout.write(renderPlanMarkdown(plan, { file: shown, warnings: [...warnings, ...remoteWarnings, ...(facts.warnings ?? [])] }));
    } else {
      if (shard !== undefined && inShard !== undefined) process.stdout.write(`${describeShard(manifest, shard.value, inShard)}\n`);
      process.stdout.write(renderPlan(plan, colors));
    }
    return detailed && changes ? 2 : 0;
  } catch (e: unknown) {
    // An expected failure deeper down (e.g. an unreadable project folder): still one JSON document.
    if (json && e instanceof UserError) return fail(e.diagnostics);
    throw e;
  }
}

/** The remote, probed, as planning asks it; its SDK is imported only here. */
async function sharedCacheFor(settings: S3Settings, projectDir: string): Promise<Result<SharedCache, string>> {
  const [{ createS3ObjectStore }, { RemoteCache }, { LocalCache }] = await Promise.all([
    import('../../remote/s3-object-store.js'),
    import('../../remote/remote-cache.js'),
    import('../../cache/local-cache.js'),
  ]);
  const store = createS3ObjectStore(settings);
  const probed = await store.probe();
  return probed.ok ? { ok: true, value: new RemoteCache(store, new LocalCache(projectDir)) } : { ok: false, error: probed.error.message };
}

function stringList(v: unknown): readonly string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}
