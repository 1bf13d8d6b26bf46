import type OpenAI from 'openai';
import type { Manifest, TargetName } from '../manifest/manifest.js';
import type { Lockfile } from '../lock/lockfile.js';
import type { Plan } from '../plan/plan.js';
import type { ExecEvent, RunSummary } from './events.js';

/**
 * What runApply needs. The caller (cli/commands/apply.ts, watch) has already
 * loaded the manifest, read the lockfile, planned, asked for confirmation and
 * taken the run lock; runApply only executes.
 */
export interface RunApplyOptions {
  readonly manifest: Manifest;
  readonly plan: Plan;
  /** The lockfile the plan was made against; runApply writes updates of it to `lockPath`. */
  readonly lock: Lockfile;
  readonly lockPath: string;
  /** An SDK client for the chosen backend (execute/../backend/create-backend.ts). */
  readonly client: OpenAI;
  /** Generation jobs at once (default 4). */
  readonly concurrency?: number;
  /** Downloads at once (default 4). */
  readonly downloadConcurrency?: number;
  /** Never submit paid jobs; paid steps fail with `frozen`. */
  readonly frozen?: boolean;
  /** Bounds for the adaptive poll interval, ms (defaults suit the real API: 1 s .. 15 s). */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  /** Abort = stop starting new jobs and return; ids already created stay in the lock. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ExecEvent) => void;
  readonly now?: () => Date;
}

export interface ApplyResult {
  readonly summary: RunSummary;
  /** The lockfile as last written. */
  readonly lock: Lockfile;
  readonly failed: readonly TargetName[];
  /** 0 all good, 1 some target failed or was skipped, 130 interrupted. */
  readonly exitCode: number;
}

export async function runApply(_options: RunApplyOptions): Promise<ApplyResult> {
  throw new Error('runApply: not implemented yet');
}
