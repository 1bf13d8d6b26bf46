import { describe, expect, it } from 'vitest';
import pc from 'picocolors';
import type { ExecEvent } from '../../src/execute/events.js';
import type { JobId, Fingerprint } from '../../src/lock/lockfile.js';
import type { TargetName } from '../../src/manifest/manifest.js';
import { isFingerprint, isJobId, isTargetKey } from '../../src/lock/lock-names.js';
import { liveLine, MIN_LIVE_COLUMNS, TtyView, type TtyStream } from '../../src/cli/progress/tty-view.js';

/** A fake terminal that records what was written. */
class FakeTerminal implements TtyStream {
  written = '';
  constructor(
    public columns: number,
    public rows = 24,
  ) {}
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
}

const colors = pc.createColors(false);
const at = '2026-01-01T00:00:00.000Z';
function name(s: string): TargetName {
  if (!isTargetKey(s)) throw new Error(`bad name ${s}`);
  return s;
}
const jobId: JobId = (() => {
  const id = 'video_0123';
  if (!isJobId(id)) throw new Error('bad id');
  return id;
})();
const fp: Fingerprint = (() => {
  const f = `sha256:${'0'.repeat(64)}`;
  if (!isFingerprint(f)) throw new Error('bad fingerprint');
  return f;
})();

function submitted(n: string): ExecEvent {
  return { type: 'job-submitted', at, name: name(n), jobId, kind: 'generate', fingerprint: fp, resumed: false };
}
function progress(n: string, p: number): ExecEvent {
  return { type: 'job-progress', at, name: name(n), jobId, status: 'in_progress', progress: p, elapsedMs: 1000 };
}

/** Visible lines of the live block drawn after the last permanent line `marker`. */
function blockAfter(t: FakeTerminal, marker: string): string[] {
  const after = t.written.split(`${marker}\n`).pop() ?? '';
  return after
    .replace(/\x1b\[\?25[lh]/g, '')
    .split('\n')
    .filter((l) => l.length > 0);
}

describe('TTY live view', () => {
  it('fits every live line in the terminal width, degrading as it narrows', () => {
    const r = { name: 'a-rather-long-target-name-indeed', status: 'in_progress', progress: 42, startedAt: 0 };
    for (let width = 1; width <= 120; width++) {
      const line = liveLine(r, 65_000, width, colors);
      expect(line.length, `width ${width}: ${JSON.stringify(line)}`).toBeLessThanOrEqual(width);
    }
    expect(liveLine(r, 65_000, 100, colors)).toMatch(/█+░+ +42% 1 min 5 s$/);
    expect(liveLine(r, 65_000, 40, colors)).not.toMatch(/[█░]/);
    expect(liveLine(r, 65_000, 40, colors)).toMatch(/42%/);
  });

  it('draws nothing live on a very narrow terminal, shows the cursor again on stop, and stop is idempotent', () => {
    for (const columns of [MIN_LIVE_COLUMNS - 1, 30, 200]) {
      const t = new FakeTerminal(columns);
      const view = new TtyView(t, colors);
      view.onEvent(submitted('alpha'));
      view.onEvent(submitted('beta-with-a-long-name'));
      view.onEvent(progress('alpha', 50));
      view.print('a permanent line');
      const block = blockAfter(t, 'a permanent line');
      if (columns < MIN_LIVE_COLUMNS) expect(block).toEqual([]);
      else {
        // The header (done/running/waiting), then one line per running job.
        expect(block).toHaveLength(3);
        expect(block[0]).toMatch(/^ {2}0 done · 2 running$|^ {2}0 · 2 run$/);
        for (const l of block) expect(l.length).toBeLessThan(columns);
      }
      view.stop();
      view.stop();
      const hides = t.written.split('\x1b[?25l').length - 1;
      const shows = t.written.split('\x1b[?25h').length - 1;
      expect(shows).toBe(hides);
      if (hides > 0) expect(t.written.lastIndexOf('\x1b[?25h')).toBeGreaterThan(t.written.lastIndexOf('\x1b[?25l'));
    }
  });

  it('treats a 0 x 0 pseudo-terminal as unknown size rather than zero', () => {
    const t = new FakeTerminal(0, 0);
    const view = new TtyView(t, colors);
    view.onEvent(submitted('alpha'));
    view.print('x');
    expect(blockAfter(t, 'x').some((l) => l.includes('alpha'))).toBe(true);
    view.stop();
    expect(t.written.endsWith('\x1b[?25h')).toBe(true);
  });
});
