import type OpenAI from 'openai';
import type { Video } from 'openai/resources/videos';
import type { JobRequest } from '../lock/lockfile.js';

/**
 * Finds the job a paid call created when we never heard its id (the process
 * died, or the response was lost). `videos.list` is walked newest first and
 * only back to the intent time; a job matches on prompt, model, size,
 * seconds and source, created within the intent's window (`intentWindow`),
 * and not claimed: held by any entry of the lock, or superseded by the
 * intent (the target's own earlier job, which matches the request too).
 *
 * Callers run reconciliations one at a time and add the result to `claimed`,
 * so two targets with identical requests never adopt the same job.
 */
export interface ReconcileQuery {
  readonly request: JobRequest;
  /** Seconds of the result (for extensions the stitched total the API reports). */
  readonly resultSeconds: number;
  readonly intentAt: string;
  readonly claimed: ReadonlySet<string>;
}

/** Clock difference tolerated between this machine and the API. */
export const CLOCK_SLACK_MS = 60_000;

/**
 * How long after its intent a paid call can still create a job: the SDK's
 * request timeout (10 minutes, upload included). A job created later is not
 * this intent's, whatever its request: another run, clone or client made it.
 */
export const INTENT_WINDOW_MS = 10 * 60_000;

/** The creation times, in seconds, a job made by this intent can have. */
export function intentWindow(intentAt: string): { readonly fromSec: number; readonly toSec: number } {
  const at = Date.parse(intentAt);
  return { fromSec: (at - CLOCK_SLACK_MS) / 1000, toSec: (at + INTENT_WINDOW_MS + CLOCK_SLACK_MS) / 1000 };
}

export async function findCreatedJob(
  client: OpenAI,
  q: ReconcileQuery,
  signal?: AbortSignal,
): Promise<Video | undefined> {
  const window = intentWindow(q.intentAt);
  let best: Video | undefined;
  for await (const v of client.videos.list({ order: 'desc', limit: 100 }, signal === undefined ? {} : { signal })) {
    if (v.created_at < window.fromSec) break;
    if (v.created_at > window.toSec || q.claimed.has(v.id) || !matches(v, q)) continue;
    // Newest first: the last match seen is the earliest after the intent.
    best = v;
  }
  return best;
}

function matches(v: Video, q: ReconcileQuery): boolean {
  const r = q.request;
  if (v.prompt !== r.prompt) return false;
  if (v.model !== r.model && !v.model.startsWith(`${r.model}-`)) return false;
  if (v.size !== r.size) return false;
  if (Number(v.seconds) !== q.resultSeconds && Number(v.seconds) !== r.seconds) return false;
  if (r.kind === 'remix' && v.remixed_from_video_id !== r.sourceJobId) return false;
  if (r.kind === 'generate' && v.remixed_from_video_id !== null) return false;
  return true;
}
