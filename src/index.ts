/**
 * vidbuild as a library: `import { plan, apply } from 'vidbuild'`.
 *
 * `plan` and `apply` do what the CLI's commands do, without printing or
 * prompting (see src/api.ts); the lower-level pieces the CLI is built from
 * are exported too, for tools that want the manifest, the plan or the
 * lockfile themselves. Everything returns errors as values (`ok: false`
 * with diagnostics that name the file, line and column), never throws on
 * bad input.
 */
export { plan, apply } from './api.js';
export type { ProjectOptions, PlanResult, ApplyOptions, ApplyRunResult, Refused, Failure } from './api.js';

export { loadManifest } from './manifest/load-manifest.js';
export type { LoadedManifest, LoadManifestOptions } from './manifest/load-manifest.js';
export type { Manifest, Target, TargetName, TargetKind, AssetVariant, ProjectPath } from './manifest/manifest.js';

export { planProject } from './plan/plan-project.js';
export type { PlanProjectOptions } from './plan/plan-project.js';
export { planBuild } from './plan/planner.js';
export type { Plan, PlanStep, TargetStep, OrphanStep, CharacterStep, CharacterChange, CharacterReuse, KnownCharacter, PlanSummary, Action, DiskFacts } from './plan/plan.js';
export { renderPlan } from './plan/render-plan.js';
export { renderPlanMarkdown } from './plan/render-plan-markdown.js';

export { readLockfile } from './lock/read-lockfile.js';
export type { Lockfile, LockedTarget, LockedAsset, JobRequest, JobState, IntentState } from './lock/lockfile.js';

export type { ExecEvent, RunSummary } from './execute/events.js';
export type { RunNotice } from './execute/apply-plan.js';
export type { ObsoleteJobEvent } from './execute/obsolete-jobs.js';
export { formatDiagnostic } from './core/diagnostic.js';
export type { Diagnostic, SourceLocation, Severity } from './core/diagnostic.js';
export type { Result } from './core/result.js';

export { startEmulator } from './emulator/server.js';
export type { EmulatorOptions, RunningEmulator } from './emulator/server.js';
