import { unreachable } from '../../core/unreachable.js';
import type { ExecEvent, RemoteClaimEvent, RunSummary } from '../../execute/events.js';
import type { Colors } from '../colors.js';
import { moneyAndUnpriced } from '../../plan/render-plan.js';
import { formatUsd } from '../../core/usd.js';

/**
 * One human line for an event, or undefined for events that only update a
 * live view (progress ticks). Shared by the plain CI log and the TTY view's
 * permanent lines, so both say the same thing.
 */
export function describeEvent(e: ExecEvent, c: Colors): string | undefined {
  switch (e.type) {
    case 'plan-ready': {
      const s = e.plan.summary;
      return `plan: ${countOf(e.plan.steps.length, 'target')}, estimated ${moneyAndUnpriced(s.cost, s.unpriced)} (prices of ${s.priceTableDate})`;
    }
    case 'character-created':
      return `${c.green('✓')} character ${e.name}: ${e.characterId}${e.reused === true ? ' (created before from this video; reused)' : ''}`;
    case 'character-failed':
      return `${c.red('✗')} character ${e.name} failed: ${e.code}: ${e.message}`;
    case 'job-intent':
      return undefined;
    case 'job-submitted':
      return `${c.cyan('+')} ${e.name}: ${e.resumed ? 'resuming' : 'submitted'} ${e.kind} job ${e.jobId}`;
    case 'job-progress':
      return undefined;
    case 'job-completed':
      return `${c.green('✓')} ${e.name}: job ${e.jobId} completed`;
    case 'job-failed':
      return `${c.red('✗')} ${e.name}: failed${e.jobId === undefined ? '' : ` (job ${e.jobId})`}: ${e.code}: ${e.message}`;
    case 'job-skipped':
      return `${c.yellow('-')} ${e.name}: skipped: ${e.reason}`;
    case 'job-reconciled':
      if (e.after === 'answer-without-id') {
        return e.jobId === undefined
          ? `${c.yellow('?')} ${e.name}: the API's answer named no job, and none is found; not sending it again`
          : `${c.cyan('↺')} ${e.name}: the API's answer named no job, but it did create job ${e.jobId}; adopted it`;
      }
      if (e.after === 'lost-response') {
        return e.jobId === undefined
          ? `${c.yellow('?')} ${e.name}: the request whose answer was lost created no job; sending it again`
          : `${c.cyan('↺')} ${e.name}: the request whose answer was lost did create job ${e.jobId}; adopted it`;
      }
      return e.jobId === undefined
        ? `${c.yellow('?')} ${e.name}: no job from the interrupted run found; creating it`
        : `${c.cyan('↺')} ${e.name}: adopted job ${e.jobId} created by an interrupted run`;
    case 'remote-claim':
      return describeRemoteClaim(e, c);
    case 'asset-restored':
      return `  ${e.name}: ${e.path} (${formatBytes(e.bytes)}, ${e.from === 'cache' ? 'from cache' : 'downloaded'})`;
    case 'target-done':
      return e.outcome === 'unchanged' ? undefined : `${c.green('✓')} ${e.name}: ${e.outcome}`;
    case 'rate-limited':
      return `${c.yellow('…')} rate limited: every request waits ${(e.retryAfterMs / 1000).toFixed(1)} s`;
    case 'warning':
      return `${c.yellow('warning:')} ${e.name === undefined ? '' : `${e.name}: `}${e.message}`;
    case 'interrupted': {
      const parts: string[] = [];
      if (e.inFlight.length > 0) parts.push(`${countOf(e.inFlight.length, 'job')} still running (${e.inFlight.join(', ')}); their ids are saved in ${e.lockName}`);
      if (e.notDownloaded.length > 0) {
        parts.push(`${countOf(e.notDownloaded.length, 'completed job')} not downloaded yet (${e.notDownloaded.join(', ')}); the API keeps outputs for about an hour`);
      }
      if (parts.length === 0) return `interrupted: every job id is saved in ${e.lockName}; run \`vidbuild apply\` again to continue`;
      return `interrupted: ${parts.join('; ')}; run \`vidbuild apply\` again to ${e.notDownloaded.length === 0 ? 'resume them' : e.inFlight.length === 0 ? 'download them' : 'resume and download them'}`;
    }
    case 'run-finished':
      return formatSummary(e.summary, c);
    default:
      return unreachable(e, 'event');
  }
}

function describeRemoteClaim(e: RemoteClaimEvent, c: Colors): string {
  switch (e.state) {
    case 'waiting':
      return `  ${e.name}: another runner (${e.holder}) is creating this job; waiting for its id instead of paying too`;
    case 'adopted':
      return `${c.cyan('↺')} ${e.name}: adopted job ${e.jobId} made by ${e.holder}; nothing paid here`;
    case 'stale':
      return `${c.yellow('?')} ${e.name}: the claim of ${e.holder} has no job id and ${e.why === 'holder-dead' ? 'its process is gone' : 'is older than the intent window'}; looking for its job before creating one`;
    default:
      return unreachable(e, 'remote claim');
  }
}

export function formatSummary(s: RunSummary, c: Colors): string {
  const parts = [
    `${s.created} created`,
    `${s.resumed} resumed`,
    `${s.fetched} restored`,
    `${s.unchanged} unchanged`,
    s.failed > 0 ? c.red(`${s.failed} failed`) : `${s.failed} failed`,
    ...(s.skipped > 0 ? [c.yellow(`${s.skipped} skipped`)] : []),
    ...(s.inFlight > 0 ? [c.cyan(`${s.inFlight} still running`)] : []),
    ...(s.notDownloaded > 0 ? [c.yellow(`${s.notDownloaded} not downloaded`)] : []),
  ];
  return `${s.interrupted ? 'Interrupted' : 'Done'}: ${parts.join(', ')}; ${formatSpend(s.cost, s.free, s.unpriced)}; ${formatDuration(s.elapsedMs)}`;
}

/**
 * What the jobs of a run cost, in words that cannot be misread: the API
 * reports no bill, so it is always an estimate, and on the emulator it is
 * only what the same jobs would cost at API prices.
 */
export function formatSpend(usd: number, free: boolean, unpriced = 0): string {
  const amount = moneyAndUnpriced(usd, unpriced);
  return free ? `est. ${amount} at API prices, free on the emulator` : `est. cost ${amount}`;
}

export { formatUsd };

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 59.95) return `${s.toFixed(1)} s`;
  // Round once, then split: 119.6 s is "2 min 0 s", never "1 min 60 s".
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  return `${m} min ${total - m * 60} s`;
}

/** `1 job`, `2 jobs`. */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
