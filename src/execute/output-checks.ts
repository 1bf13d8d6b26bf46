import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Plan, TargetStep } from '../plan/plan.js';
import type { OpenProject } from './open-project.js';
import { foreignOutputs, readSiblingLocks } from './sibling-locks.js';
import { hashFile } from '../cache/local-cache.js';
import { lockRecordsOutput } from './overwrite-guard.js';

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
 * Files already where a paid job's outputs will go that the lock does not
 * record there with those bytes: the user's own clip in a folder `outDir`
 * now points at, a new or renamed target's output colliding with a file, the
 * outputs of earlier jobs after the lock was lost. Paying for a job whose
 * result then may not be written helps nobody, so apply refuses before it
 * pays (`--force` moves them aside instead; the executor's overwrite guard
 * covers restores and downloads the same way). One line per file. The
 * target's own output at the path its lock entry records, changed since, is
 * not in the way: the guard keeps it aside (`a.modified-…`), as the plan says.
 */
export interface InTheWay {
  readonly name: string;
  readonly path: string;
  readonly message: string;
  /** Not a file (a symlink, a folder): `--force` does not move it, the run is refused. */
  readonly always?: true;
}

export async function filesInTheWay(project: OpenProject, plan: Plan): Promise<InTheWay[]> {
  const found: InTheWay[] = [];
  const lockName = path.basename(project.lockPath);
  for (const s of plan.steps) {
    if (s.action === 'orphan' || s.fromCache !== undefined) continue;
    if (s.action !== 'create' && s.action !== 'replace' && s.action !== 'retry' && s.action !== 'regenerate') continue;
    for (const variant of s.target.assets) {
      const rel = s.target.outputs[variant];
      if (rel === undefined) continue;
      const abs = path.join(project.manifest.projectDir, rel);
      const st = await fsp.lstat(abs).catch(() => undefined);
      if (st !== undefined && !st.isFile()) {
        // The executor refuses to write through a link or over a folder; found after paying, the job's output would be left undownloaded.
        const what = st.isSymbolicLink() ? 'a symlink (vidbuild never writes through one)' : st.isDirectory() ? 'a directory' : 'not a regular file';
        found.push({ name: s.name, path: rel, always: true, message: `${s.name}: ${rel} is ${what}, where the new job's output goes; nothing was done: move it out of the way` });
        continue;
      }
      if (st === undefined) continue;
      const sha = await hashFile(abs).then((h) => h.sha256, () => undefined);
      if (sha !== undefined && (lockRecordsOutput(project.lock, rel, sha) || s.locked?.assets[variant]?.path === rel)) continue;
      found.push({
        name: s.name,
        path: rel,
        message: `${s.name}: ${rel} exists but ${lockName} does not record it as vidbuild's; the new job would replace it, so nothing was done: move it away, adopt the job that made it with \`vidbuild import ${s.name} VIDEO_ID\`, or pass --force to move it aside`,
      });
    }
  }
  return found;
}
