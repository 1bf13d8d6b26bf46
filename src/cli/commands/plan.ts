import { describeShard, parseShard, targetsInShard } from '../../plan/shard.js';
import path from 'node:path';
import { UserError, errorDiagnostic, formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import type { TargetName } from '../../manifest/manifest.js';
import { displayPath } from '../../manifest/load-manifest.js';
import { planHasChanges } from '../../plan/plan.js';
import { openProject } from '../../execute/open-project.js';
import { planForReview } from '../../execute/apply-rails.js';
import { openRemote } from '../../remote/open-remote.js';
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
    const opened = await openProject({ file, cwd, lockFor: undefined });
    if (!opened.ok) return fail(opened.error);
    const project = opened.value;
    const { manifest, warnings } = project;
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
    const forced = replace?.filter((n): n is TargetName => isTargetName(manifest, n));
    // As apply does: a target forced with --replace is wanted even when --target narrows the plan to others.
    const named = targets?.filter((n): n is TargetName => isTargetName(manifest, n));
    const known = named === undefined ? undefined : [...new Set([...named, ...(forced ?? [])])];
    const inShard = shard === undefined ? undefined : targetsInShard(manifest, shard.value).filter((n) => known === undefined || known.includes(n));

    const store = await openRemote({ flag: typeof opts['remote'] === 'string' ? opts['remote'] : undefined, env: process.env, manifest: manifest.remote });
    if (!store.ok) return fail([store.error], warnings);
    // The library's plan() path: what would pay may already be in the team's remote cache.
    const { plan, facts, remote } = await planForReview(project, {
      targets: inShard ?? known,
      replace: forced,
      retryFailed: opts['retryFailed'] === true,
      remote: store.value,
    });
    // Said beside the plan, in every format: a plan that could not ask the remote may count as paid what it holds.
    const remoteWarnings: Diagnostic[] =
      remote.state === 'down' ? [{ code: 'remote-unavailable', severity: 'warning', message: `${remote.error.message}; this plan does not count what the remote cache holds` }] : [];
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

function stringList(v: unknown): readonly string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}
