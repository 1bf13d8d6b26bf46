import { describe, expect, it } from 'vitest';
import { tempProject, vidbuild } from '../apply/rig.js';

describe('apply --json on a manifest that does not load', () => {
  it('ends in one run-refused line on stdout with the positioned diagnostics (the error also on stderr), exit 1', async () => {
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  a: { prompt: 5 }\n' });
    for (const command of ['apply', 'pull']) {
      const r = await vidbuild([command, '--json', ...(command === 'apply' ? ['--yes'] : []), '--backend', 'emulator'], dir);
      expect(r.code).toBe(1);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({
        type: 'run-refused',
        code: 'bad-type',
        message: 'videos.yaml:3:16: `prompt` must be a string (got 5)',
        diagnostics: [{ code: 'bad-type', location: { file: 'videos.yaml', line: 3, col: 16 } }],
      });
      expect(r.stderr).toContain('videos.yaml:3:16: `prompt` must be a string (got 5)');
    }
  });
});
