import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import type { Plan, TargetStep } from '../plan/plan.js';
import type { OpenProject } from './open-project.js';
import { foreignOutputs, readSiblingLocks } from './sibling-locks.js';

/*
 * Checks of the output paths a plan is about to write, run by apply before
 * anything is written or paid: another manifest's outputs, and files the
 * lock does not know.
 */

/**
 * Outputs this run would write over another manifest's (ads.yaml and
 * videos.yaml in one folder both default to outDir `videos`): each apply
 * would overwrite the other's file and the next plan restore its own, back
 * and forth, and one prune could delete what the other still uses. Refused
 * before anything is written or paid, one line per clash.
 */
export async function outputClashes(project: OpenProject, plan: Plan): Promise<string[]> {
  const writing = plan.steps.filter((s): s is TargetStep => s.action !== 'orphan' && s.action !== 'unchanged');
  if (writing.length === 0) return [];
  const foreign = foreignOutputs(await readSiblingLocks(project.manifest.projectDir, project.lockPath));
  if (foreign.size === 0) return [];
  const file = path.basename(project.manifest.file);
  const lines: string[] = [];
  for (const step of writing) {
    for (const variant of step.target.assets) {
      const out = step.target.outputs[variant];
      const other = out === undefined ? undefined : foreign.get(out);
      if (other === undefined) continue;
      lines.push(
        `${file}: ${step.name} would write ${other.path}, which is ${other.target}'s output in ${other.lockName} (${other.manifestName}); give one of the two manifests another outDir; nothing was done`,
      );
    }
  }
  return lines;
}

/**
 * Files already where a new target's outputs go, which the lock knows
 * nothing about: typically the outputs of earlier paid jobs after the lock
 * (and the cache) were lost. Creating the target replaces them, so say so
 * before it happens, and how to keep them instead.
 */
export async function unknownFilesInTheWay(project: OpenProject, plan: Plan): Promise<Diagnostic[]> {
  const found: Diagnostic[] = [];
  for (const s of plan.steps) {
    if (s.action !== 'create' || s.fromCache !== undefined) continue;
    const files: string[] = [];
    for (const variant of s.target.assets) {
      const rel = s.target.outputs[variant];
      if (rel === undefined) continue;
      const st = await fsp.lstat(path.join(project.manifest.projectDir, rel)).catch(() => undefined);
      if (st?.isFile() === true) files.push(rel);
    }
    if (files.length === 0) continue;
    found.push({
      code: 'output-exists',
      severity: 'warning',
      message: `${s.name}: ${files.join(', ')} ${files.length === 1 ? 'exists' : 'exist'} but ${path.basename(project.lockPath)} does not know ${files.length === 1 ? 'it' : 'them'}; the new job replaces ${files.length === 1 ? 'it' : 'them'} (to keep ${files.length === 1 ? 'it' : 'them'}, move ${files.length === 1 ? 'it' : 'them'} away, or adopt the job that made ${files.length === 1 ? 'it' : 'them'} with \`vidbuild import ${s.name} VIDEO_ID\`)`,
    });
  }
  return found;
}
