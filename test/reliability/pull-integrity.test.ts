import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulator, tempProject, vidbuild } from '../apply/rig.js';

/**
 * Issue 13 item 11: `pull` restores the bytes the committed lock names, or
 * nothing. Bytes whose sha256 differs are refused, naming the target and
 * both hashes, and videos.lock stays exactly as committed.
 */
describe('pull against the committed lock', () => {
  it('refuses bytes whose sha256 differs from the lock, naming the target and both hashes; the lock is unchanged', async () => {
    const dir = await tempProject({
      'videos.yaml': 'version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A field., assets: [video, thumbnail] }\n',
    });
    const emu = await emulator();
    const first = await vidbuild(['apply', '--yes', '--base-url', emu.baseURL], dir);
    expect(first.code, first.stdout + first.stderr).toBe(0);

    const lockFile = path.join(dir, 'videos.lock');
    const lock = JSON.parse(await readFile(lockFile, 'utf8')) as { videos: Record<string, { assets: Record<string, { sha256: string }> }> };
    const real = lock.videos['a']!.assets['video']!.sha256;
    lock.videos['a']!.assets['video']!.sha256 = '0'.repeat(64);
    const tampered = `${JSON.stringify(lock, null, 2)}\n`;
    await writeFile(lockFile, tampered);
    await rm(path.join(dir, '.vidbuild'), { recursive: true, force: true });
    await rm(path.join(dir, 'out'), { recursive: true, force: true });

    const r = await vidbuild(['pull', '--base-url', emu.baseURL], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ a: failed \(job video_\w+\): sha-mismatch: video of /);
    expect(r.stdout).toContain(`has sha256 ${real}, but videos.lock records ${'0'.repeat(64)}; nothing was written and videos.lock is unchanged`);
    expect(await readFile(lockFile, 'utf8')).toBe(tampered);
    await expect(readFile(path.join(dir, 'out', 'a.mp4'))).rejects.toThrow();
  });
});
