import { createHash } from 'node:crypto';
import type { Target } from '../manifest/manifest.js';
import type { Fingerprint, JobId, JobRequest } from '../lock/lockfile.js';
import { isFingerprint } from '../lock/lock-names.js';
import { canonicalJson } from './canonical-json.js';
import { requestedSeconds } from './fingerprint.js';

/**
 * What `vidbuild import` compares before it adopts a job made elsewhere: the
 * job as the API describes it against what the target asks for. Recording a
 * job under the target's fingerprint claims the job *is* that target; when
 * the job was made from another prompt (or length, size, model, source), the
 * next plan would say "No changes" over a clip that is not what the
 * manifest says. So a mismatch is refused, or, with `--force`, the lock
 * records the job as it was really made and the next plan replaces it.
 */
export interface JobAsMade {
  readonly id: JobId;
  /** Null when the API does not say (the real API omits it for some jobs). */
  readonly prompt: string | null;
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  /** The video this job remixed, if the API says it is a remix. */
  readonly remixedFrom: JobId | null;
}

export interface ImportDifference {
  readonly field: 'prompt' | 'model' | 'size' | 'seconds' | 'source';
  /** For the message: `seconds 4 (job) vs 8 (videos.yaml)`. */
  readonly text: string;
}

const EXCERPT = 60;

/** A short, quoted, single-line excerpt of a prompt for a message. */
function excerpt(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > EXCERPT ? `${flat.slice(0, EXCERPT - 1)}…` : flat);
}

/** A model id the API reports with a snapshot suffix (`sora-2-2025-10-06`) is the same model. */
function sameModel(made: string, asked: string): boolean {
  return made === asked || made.startsWith(`${asked}-20`);
}

export function importDifferences(job: JobAsMade, target: Target, sourceJobId: JobId | undefined): ImportDifference[] {
  const out: ImportDifference[] = [];
  if (job.prompt !== null && job.prompt !== target.prompt) {
    out.push({ field: 'prompt', text: `prompt ${excerpt(job.prompt)} (job) vs ${excerpt(target.prompt)} (manifest)` });
  }
  if (!sameModel(job.model, target.model)) out.push({ field: 'model', text: `model ${job.model} (job) vs ${target.model}` });
  if (job.size !== target.size) out.push({ field: 'size', text: `size ${job.size} (job) vs ${target.size}` });
  if (job.seconds !== target.seconds) out.push({ field: 'seconds', text: `${job.seconds} s (job) vs ${target.seconds} s` });
  if (target.kind === 'remix' && job.remixedFrom !== null && sourceJobId !== undefined && job.remixedFrom !== sourceJobId) {
    out.push({ field: 'source', text: `a remix of ${job.remixedFrom}, not of ${target.source.type === 'target' ? target.source.name : 'its source'}'s job ${sourceJobId}` });
  } else if (target.kind !== 'remix' && job.remixedFrom !== null) {
    out.push({ field: 'source', text: `a remix of ${job.remixedFrom}; the target is a ${target.kind}` });
  }
  return out;
}

/**
 * The request the lock records for a job imported with `--force` over a
 * mismatch: what the job was made from, where the API says, so the planner's
 * comparison with the manifest names what differs ("prompt changed").
 */
export function requestAsMade(request: JobRequest, job: JobAsMade, target: Target): JobRequest {
  // For an extension the request's seconds are the footage added, which the API does not report.
  const seconds = target.kind === 'extend' ? requestedSeconds(target) + (job.seconds - target.seconds) : job.seconds;
  return {
    ...request,
    prompt: job.prompt ?? request.prompt,
    model: job.model,
    size: job.size,
    seconds,
    ...(job.remixedFrom === null ? {} : { sourceJobId: job.remixedFrom }),
  };
}

/**
 * The fingerprint recorded for such a job: a digest of the job id and its
 * as-made request, which no manifest target hashes to. The next plan sees a
 * changed target and replaces it; the cache never serves this job for the
 * target's real fingerprint.
 */
export function fingerprintAsMade(request: JobRequest, jobId: JobId): Fingerprint {
  const fp = `sha256:${createHash('sha256').update(canonicalJson({ importedAsMade: jobId, request: { ...request } })).digest('hex')}`;
  if (!isFingerprint(fp)) throw new Error(`bad digest ${fp}`);
  return fp;
}
