import { createHash } from 'node:crypto';
import { readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { solidPng } from '../emulator/media.js';
import { collect, emulator, readLock, spawnCli, tempProject, vidbuild } from '../apply/rig.js';
import { tempDir } from './run-cli.js';

/**
 * Issue 13 items 1 and 3: vidbuild reads only inside the manifest's folder.
 * A manifest that is a symlink to `.env` is refused without quoting it, and a
 * referenced file swapped for a link to a secret between plan and upload is
 * refused before a byte of it is sent.
 */
const SECRET = 'OPENAI_API_KEY=sk-outside-secret-42\nDB_PASSWORD=hunter2\n';

describe('files outside the project', () => {
  it('a manifest symlinked to a file outside its folder is refused in one line that quotes none of it', async () => {
    const outside = await tempDir('vidbuild-outside-');
    await writeFile(path.join(outside, '.env'), SECRET);
    const dir = await tempProject({});
    await symlink(path.join(outside, '.env'), path.join(dir, 'videos.yaml'));
    await symlink('/etc/passwd', path.join(dir, 'passwd.yaml'));
    for (const args of [['validate'], ['plan'], ['apply', '--yes', '--backend', 'emulator'], ['plan', '-f', 'passwd.yaml']]) {
      const r = await vidbuild(args, dir);
      expect(r.code, args.join(' ')).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(out).toMatch(/is a symlink leading outside its folder/);
      for (const secret of ['sk-outside-secret-42', 'hunter2', 'root:']) expect(out).not.toContain(secret);
    }
  });

  it('a file that is not a manifest is refused without quoting its content', async () => {
    const dir = await tempProject({ 'videos.yaml': SECRET });
    const r = await vidbuild(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('the manifest must be a map with `version` and `videos`');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('a referenced file swapped for a link out of the project after the plan is never uploaded', async () => {
    const outside = await tempDir('vidbuild-outside-');
    // The same kind of file as the planned one, so only where it lives gives it away.
    const secretPng = solidPng(720, 1280, [1, 2, 3]);
    await writeFile(path.join(outside, 'secret.png'), secretPng);
    const dir = await tempProject({
      'videos.yaml': [
        'version: 1',
        'outDir: out',
        'defaults: { model: sora-2, size: 720x1280, seconds: 4 }',
        'videos:',
        '  a: { prompt: A field., input_reference: refs/a.png }',
        '  b: { prompt: A river., input_reference: refs/b.png }',
        '',
      ].join('\n'),
      'refs/a.png': solidPng(720, 1280, [200, 40, 90]),
      'refs/b.png': solidPng(720, 1280, [40, 200, 90]),
    });
    const emuDir = await tempDir('vidbuild-outside-emu-');
    const emu = await emulator({ dir: emuDir, jobSeconds: 2 });
    const child = spawnCli(['apply', '--yes', '--json', '--concurrency', '1', '--base-url', emu.baseURL], dir);
    let swapped: Promise<void> | undefined;
    const done = collect(child, (line) => {
      if (swapped !== undefined || !line.includes('"job-submitted"')) return;
      // One job is at the API and holds the only slot; the other is not sent yet.
      const first = (JSON.parse(line) as { name: string }).name;
      const other = first === 'a' ? 'b' : 'a';
      const file = path.join(dir, 'refs', `${other}.png`);
      swapped = (async () => {
        await rename(file, `${file}.moved`);
        await symlink(path.join(outside, 'secret.png'), file);
      })();
    });
    const r = await done;
    await swapped;
    expect(swapped).toBeDefined();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/now leads outside the project through a symlink; vidbuild uploads only files inside the manifest's folder; nothing was sent/);

    const uploads = await readdir(path.join(emuDir, 'uploads')).catch(() => [] as string[]);
    const secretSha = createHash('sha256').update(secretPng).digest('hex');
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.some((u) => u.includes(secretSha))).toBe(false);
    expect(Object.keys((await readLock(dir)).videos)).toHaveLength(1);

    // Nothing calls the refused target done: the next plan still has work (and refuses the link).
    const plan = await vidbuild(['plan'], dir);
    expect(plan.stdout + plan.stderr).not.toContain('No changes');
  });

  it('a referenced file edited after the plan is refused: the lock never says a job came from bytes it did not', async () => {
    const dir = await tempProject({
      'videos.yaml':
        'version: 1\noutDir: out\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\nvideos:\n  a: { prompt: A field., input_reference: refs/a.png }\n  b: { prompt: A river., input_reference: refs/b.png }\n',
      'refs/a.png': solidPng(720, 1280, [200, 40, 90]),
      'refs/b.png': solidPng(720, 1280, [40, 200, 90]),
    });
    const emu = await emulator({ jobSeconds: 2 });
    const child = spawnCli(['apply', '--yes', '--json', '--concurrency', '1', '--base-url', emu.baseURL], dir);
    let other: string | undefined;
    let edited: Promise<void> | undefined;
    const done = collect(child, (line) => {
      if (edited !== undefined || !line.includes('"job-submitted"')) return;
      other = (JSON.parse(line) as { name: string }).name === 'a' ? 'b' : 'a';
      edited = writeFile(path.join(dir, 'refs', `${other}.png`), solidPng(720, 1280, [9, 9, 9]));
    });
    const r = await done;
    await edited;
    expect(other).toBeDefined();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`refs/${other}\\.png changed since it was planned \\(sha256 [0-9a-f]{12}, planned [0-9a-f]{12}\\); nothing was sent`));
    expect(Object.keys((await readLock(dir)).videos)).toEqual([other === 'a' ? 'b' : 'a']);
  });
});
