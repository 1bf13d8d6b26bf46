import { describe, expect, it } from 'vitest';
import { apply, cliEnv, emulator, readLock, tempProject, vidbuild } from '../apply/rig.js';

describe('vidbuild status at a given width', () => {
  it('fits 120 columns by eliding the middle of job ids, keeping both ends; a pipe without COLUMNS gets them whole', async () => {
    const emu = await emulator();
    const dir = await tempProject({
      'videos.yaml': `version: 1
outDir: out
videos:
  a-rather-long-target-name-for-the-opening-shot: { prompt: A field. }
  bad: { prompt: "A storm [[fail:moderation_blocked]]" }
`,
    });
    await apply(dir, emu);
    const jobId = (await readLock(dir)).videos['a-rather-long-target-name-for-the-opening-shot']?.job.jobId ?? '';
    {
      const columns = 120;
      const r = await vidbuild(['status'], dir, cliEnv({ COLUMNS: String(columns) }));
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      for (const l of lines) expect(l.length, l).toBeLessThan(columns);
      expect(r.stdout).toContain(jobId.slice(0, 12));
      expect(r.stdout).toContain(jobId.slice(-4));
      expect(r.stdout).toMatch(/failed \(moderation_blocked\)/);
    }
    // Narrower than the minimums: job ids are as short as they get, lines may wrap.
    const narrow = await vidbuild(['status'], dir, cliEnv({ COLUMNS: '80' }));
    expect(narrow.stdout).toMatch(/ video_\S{5,}…\S{4,} /);
    const whole = await vidbuild(['status'], dir);
    expect(whole.stdout).toContain(jobId);
    expect(whole.stdout).toContain('a-rather-long-target-name-for-the-opening-shot');
  });
});
