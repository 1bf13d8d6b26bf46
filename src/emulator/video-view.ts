import { phaseAt } from './lifecycle.js';
import type { JobRecord } from './state-store.js';
import { unreachable } from '../core/unreachable.js';

/**
 * The SDK's `Video` object as the API returns it. `status` is a plain
 * string because the emulator can end jobs in statuses outside the SDK's
 * union (e.g. `expired`) on purpose.
 */
export interface VideoJson {
  readonly id: string;
  readonly object: 'video';
  readonly created_at: number;
  readonly completed_at: number | null;
  readonly expires_at: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly model: string;
  readonly progress: number;
  readonly prompt: string | null;
  readonly remixed_from_video_id: string | null;
  readonly seconds: string;
  readonly size: string;
  readonly status: string;
}

const secondsOf = (ms: number): number => Math.floor(ms / 1000);

export function expiresAtMs(job: JobRecord): number {
  return job.schedule.finishAtMs + job.assetTtlSeconds * 1000;
}

export function videoJson(job: JobRecord, nowMs: number): VideoJson {
  const base = {
    id: job.id,
    object: 'video' as const,
    created_at: secondsOf(job.schedule.createdAtMs),
    model: job.model,
    prompt: job.prompt,
    remixed_from_video_id: job.remixedFrom,
    seconds: String(job.seconds),
    size: job.size,
  };
  const phase = phaseAt(job.schedule, nowMs);
  switch (phase.kind) {
    case 'queued':
      return { ...base, status: 'queued', progress: 0, completed_at: null, expires_at: null, error: null };
    case 'in_progress':
      return { ...base, status: 'in_progress', progress: phase.progress, completed_at: null, expires_at: null, error: null };
    case 'ended':
      break;
    default:
      return unreachable(phase, 'phase');
  }
  const completedAt = secondsOf(job.schedule.finishAtMs);
  const o = job.outcome;
  switch (o.kind) {
    case 'completed':
      return { ...base, status: 'completed', progress: 100, completed_at: completedAt, expires_at: secondsOf(expiresAtMs(job)), error: null };
    case 'failed':
      return { ...base, status: 'failed', progress: 100, completed_at: completedAt, expires_at: null, error: { code: o.code, message: o.message } };
    case 'other':
      return { ...base, status: o.status, progress: 100, completed_at: completedAt, expires_at: null, error: null };
    default:
      return unreachable(o, 'outcome');
  }
}
