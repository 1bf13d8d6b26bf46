import { wordDiff, type WordDiffPart } from './word-diff.js';
import type { Diagnostic, SourceLocation } from '../core/diagnostic.js';
import type { Plan } from './plan.js';

/**
 * `vidbuild plan --json`: the plan as stable data for scripts and CI. Keys and
 * meanings only grow; `version` changes if one ever has to change meaning.
 */
export interface PlanJson {
  readonly version: 1;
  readonly steps: readonly PlanJsonStep[];
  readonly characters: readonly {
    readonly name: string;
    readonly action: string;
    readonly reason: string;
    readonly fileSha256: string | null;
  }[];
  readonly summary: {
    readonly counts: Readonly<Record<string, number>>;
    /** USD of the priced steps only. */
    readonly cost: number;
    /** Paid steps with no known price (`$?`), left out of `cost`. */
    readonly unpriced: number;
    readonly currency: 'USD';
    readonly priceTableDate: string;
    readonly changes: boolean;
  };
  /** The manifest's, the disk's and the plan's warnings; `location` when the warning is about a place in a file. */
  readonly warnings: readonly { readonly code: string; readonly message: string; readonly location?: SourceLocation }[];
}

export interface PlanJsonStep {
  readonly name: string;
  readonly action: string;
  readonly kind: string | null;
  /** What the job is (or, for an orphan, was): model, size, and the seconds the result lasts. */
  readonly model: string;
  readonly size: string;
  readonly seconds: number;
  /** Files the step writes (an orphan: the files it wrote), by variant. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Characters the video uses (it waits for their creation). */
  readonly characters: readonly string[];
  readonly reason: string;
  readonly changes: readonly string[];
  /** When the prompt changed: the old and the new one, and their word diff. */
  readonly promptChange: { readonly from: string; readonly to: string; readonly diff: readonly WordDiffPart[] } | null;
  readonly cost: number;
  readonly unpriced: boolean;
  readonly fingerprint: string;
  readonly provisional: boolean;
  readonly dependsOn: readonly string[];
  readonly restores: readonly { readonly variant: string; readonly path: string; readonly from: string }[];
  readonly jobId: string | null;
}

export function planToJson(plan: Plan, changes: boolean, extraWarnings: readonly Diagnostic[] = []): PlanJson {
  return {
    version: 1,
    steps: plan.steps.map((s): PlanJsonStep => {
      const job = s.locked?.job;
      const jobId = job?.state === 'job' ? job.jobId : null;
      if (s.action === 'orphan') {
        return {
          name: s.name,
          action: s.action,
          kind: s.locked.kind,
          model: s.locked.model,
          size: s.locked.size,
          seconds: s.locked.seconds,
          outputs: lockedOutputs(s.locked.assets),
          characters: [],
          reason: s.reason,
          changes: [],
          promptChange: null,
          cost: 0,
          unpriced: false,
          fingerprint: s.locked.fingerprint,
          provisional: false,
          dependsOn: [],
          restores: [],
          jobId,
        };
      }
      return {
        name: s.name,
        action: s.action,
        kind: s.target.kind,
        model: s.target.model,
        size: s.target.size,
        seconds: s.target.seconds,
        outputs: { ...s.target.outputs },
        characters: [...s.target.characters],
        reason: s.reason,
        changes: s.changes,
        promptChange: s.promptChange === undefined ? null : { ...s.promptChange, diff: wordDiff(s.promptChange.from, s.promptChange.to) },
        cost: s.cost,
        unpriced: s.unpriced === true,
        fingerprint: s.fingerprint,
        provisional: s.provisional,
        dependsOn: s.dependsOn,
        restores: s.restores.map((r) => ({ variant: r.variant, path: r.path, from: r.from })),
        jobId,
      };
    }),
    characters: plan.characters.map((c) => ({ name: c.name, action: c.action, reason: c.reason, fileSha256: c.fileSha256 ?? null })),
    summary: {
      counts: plan.summary.counts,
      cost: plan.summary.cost,
      unpriced: plan.summary.unpriced,
      currency: 'USD',
      priceTableDate: plan.summary.priceTableDate,
      changes,
    },
    warnings: [...extraWarnings, ...(plan.warnings ?? [])].map((w) =>
      w.location === undefined ? { code: w.code, message: w.message } : { code: w.code, message: w.message, location: w.location },
    ),
  };
}

function lockedOutputs(assets: Readonly<Partial<Record<string, { readonly path: string }>>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [variant, asset] of Object.entries(assets)) if (asset !== undefined) out[variant] = asset.path;
  return out;
}
