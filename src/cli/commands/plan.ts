import path from 'node:path';
import { errorDiagnostic, formatDiagnostic, type Diagnostic } from '../../core/diagnostic.js';
import type { TargetName } from '../../manifest/manifest.js';
import { loadManifest } from '../../manifest/load-manifest.js';
import { readLockfile } from '../../lock/read-lockfile.js';
import { planProject } from '../../plan/plan-project.js';
import { planHasChanges } from '../../plan/plan.js';
import { renderPlan } from '../../plan/render-plan.js';
import { planToJson } from '../../plan/plan-json.js';
import { isTargetName, unknownTargetNames } from '../../plan/target-selection.js';
import { colorsFor } from '../colors.js';

/**
 * `vidbuild plan`: load, read the lock, look at the disk, plan, print. Never
 * writes anything but the hash cache; never talks to the API (and so never
 * imports the SDK: a 10k-target plan must start fast).
 *
 * Exit codes: 0 ok; 1 error; with --detailed-exitcode, 2 when there are changes.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml';
  const json = opts['json'] === true;
  const detailed = opts['detailedExitcode'] === true;
  const colors = colorsFor(process.stdout, opts['color'] === false || json);
  const errColors = colorsFor(process.stderr, opts['color'] === false);
  const printDiag = (d: Diagnostic): void => {
    const line = formatDiagnostic(d);
    process.stderr.write(`${d.severity === 'warning' ? errColors.yellow(line) : line}\n`);
  };

  const loaded = await loadManifest(file, { cwd: process.cwd() });
  if (!loaded.ok) {
    for (const d of loaded.error) printDiag(d);
    return 1;
  }
  const { manifest, warnings } = loaded.value;
  for (const w of warnings) printDiag(w);

  const targets = stringList(opts['target']);
  const replace = stringList(opts['replace']);
  const unknown = unknownTargetNames(manifest, [...(targets ?? []), ...(replace ?? [])]);
  if (unknown.length > 0) {
    for (const u of unknown) {
      const hint = u.suggestion === undefined ? '' : ` (did you mean ${u.suggestion}?)`;
      printDiag(errorDiagnostic('unknown-target', `no target named ${u.name} in ${path.relative(process.cwd(), manifest.file) || manifest.file}${hint}`));
    }
    return 1;
  }

  const lock = await readLockfile(manifest.projectDir);
  if (!lock.ok) {
    printDiag(lock.error);
    return 1;
  }
  const { plan, facts } = await planProject(manifest, lock.value, {
    targets: targets?.filter((n): n is TargetName => isTargetName(manifest, n)),
    replace: replace?.filter((n): n is TargetName => isTargetName(manifest, n)),
  });
  const changes = planHasChanges(plan);

  for (const w of facts.warnings ?? []) printDiag(w);
  for (const w of plan.warnings ?? []) printDiag(w);
  if (json) process.stdout.write(`${JSON.stringify(planToJson(plan, changes, facts.warnings ?? []), null, 2)}\n`);
  else process.stdout.write(renderPlan(plan, colors));
  return detailed && changes ? 2 : 0;
}

function stringList(v: unknown): readonly string[] | undefined {
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}
