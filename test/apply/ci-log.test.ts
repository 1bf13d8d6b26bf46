import { describe, expect, it } from 'vitest';
import { cliEnv, emulator, tempProject, vidbuild } from './rig.js';

describe('the plain CI log of a long job', () => {
  it('has a heartbeat line per running job (VIDBUILD_LOG_HEARTBEAT_SECONDS), not silence until completed', async () => {
    // Polls aim at the predicted end but look at least every 5 s on the emulator: a 10 s job is seen running twice.
    const emu = await emulator({ jobSeconds: 10 });
    const dir = await tempProject({ 'videos.yaml': 'version: 1\noutDir: out\nvideos:\n  slow: { prompt: A slow sunrise. }\n' });
    const r = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir, cliEnv({ VIDBUILD_LOG_HEARTBEAT_SECONDS: '1' }));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const beats = lines.filter((l) => /^ {2}slow: still (queued|in progress) \(\d+%\) after \d+\.\d s$/.test(l));
    expect(beats.length).toBeGreaterThanOrEqual(1);
    // Heartbeats come between the first status line and the end of the job.
    const first = lines.findIndex((l) => /^ {2}slow: (queued|in progress)/.test(l));
    const done = lines.findIndex((l) => l.includes('slow: job') && l.includes('completed'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf(beats[0] ?? '')).toBeGreaterThan(first);
    expect(lines.indexOf(beats[beats.length - 1] ?? '')).toBeLessThan(done);
  });
});
