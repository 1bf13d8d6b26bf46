import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The fast cut of the long campaigns: the very scripts `npm run soak:crash`
 * and `npm run soak:faults` run, on a few targets, side by side. The full
 * runs (50 targets, 50 kills) are in RELIABILITY.md.
 */

interface CrashSummary {
  readonly killsLanded: number;
  readonly targets: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly problems: readonly string[];
}

interface FaultSummary {
  readonly faultsInjected: number;
  readonly requestRatio: number;
  readonly faulty: { readonly converged: boolean; readonly duplicates: number; readonly failedReported: Readonly<Record<string, string>> };
  readonly problems: readonly string[];
}

function runScript(script: string, args: readonly string[]): Promise<{ code: number | null; summary: unknown; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('scripts', script), ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A watchdog, not a speed goal: on 2 loaded cores the two fast cuts side by
    // side have taken from 40 s to over 120 s. Only a real hang should trip it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, summary: JSON.parse(line), stderr });
      } catch {
        reject(new Error(`${script} printed no summary (exit ${code}):\n${stderr}`));
      }
    });
  });
}

function isCrashSummary(v: unknown): v is CrashSummary {
  return typeof v === 'object' && v !== null && 'killsLanded' in v && 'duplicates' in v && 'problems' in v;
}
function isFaultSummary(v: unknown): v is FaultSummary {
  return typeof v === 'object' && v !== null && 'faulty' in v && 'requestRatio' in v && 'problems' in v;
}

let crash: CrashSummary;
let faults: FaultSummary;

beforeAll(async () => {
  const [c, f] = await Promise.all([
    runScript('soak-crash.mjs', ['--targets', '5', '--kills', '4', '--job-seconds', '0.5', '--latency-ms', '40', '--seed', '3']),
    runScript('soak-faults.mjs', ['--targets', '10', '--job-seconds', '0.5', '--seed', '11']),
  ]);
  if (!isCrashSummary(c.summary)) throw new Error(`crash summary: ${JSON.stringify(c.summary)}`);
  if (!isFaultSummary(f.summary)) throw new Error(`fault summary: ${JSON.stringify(f.summary)}`);
  crash = c.summary;
  faults = f.summary;
}, 300_000);

describe('crash campaign (fast cut)', () => {
  it('lands every kill and converges with every target created exactly once and nothing lost', () => {
    expect(crash.killsLanded).toBe(4);
    expect(crash.duplicates).toBe(0);
    expect(crash.lost).toBe(0);
  });
  it('finds no unparsable lock, no corrupt output, no hash mismatch and nothing left behind', () => {
    expect(crash.problems).toEqual([]);
  });
});

describe('fault campaign (fast cut)', () => {
  it('converges through injected faults without paying twice, within 2x the fault-free requests', () => {
    expect(faults.faultsInjected).toBeGreaterThan(0);
    expect(faults.faulty.converged).toBe(true);
    expect(faults.faulty.duplicates).toBe(0);
    expect(faults.requestRatio).toBeLessThanOrEqual(2);
  });
  it('reports the failing target with its code, and no other problem', () => {
    expect(Object.values(faults.faulty.failedReported)).toEqual(['moderation_blocked']);
    expect(faults.problems).toEqual([]);
  });
});
