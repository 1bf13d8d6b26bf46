import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openFileWatcher } from '../../src/watch/file-watcher.js';

/** A watcher over a temp dir whose events can be awaited one by one. */
async function rig(names: readonly string[]) {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-fw-')));
  onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  for (const n of names) await fs.writeFile(path.join(dir, n), 'v0');
  const seen: string[] = [];
  let waiter: { file: string; resolve: () => void } | undefined;
  const watcher = await openFileWatcher(new Set(names.map((n) => path.join(dir, n))), {
    root: dir,
    onChange: (file) => {
      seen.push(file);
      if (waiter !== undefined && waiter.file === file) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
    },
  });
  onTestFinished(() => watcher.close());
  /** Resolves at the next event for `name`. */
  const next = (name: string) =>
    new Promise<void>((resolve) => {
      waiter = { file: path.join(dir, name), resolve };
    });
  return { dir, watcher, seen, next, p: (n: string) => path.join(dir, n) };
}

describe('openFileWatcher', () => {
  it('sees a plain write', async () => {
    const r = await rig(['videos.yaml']);
    const ev = r.next('videos.yaml');
    await fs.writeFile(r.p('videos.yaml'), 'v1');
    await ev;
  });

  // Separate from the plain write: chokidar drops a second `change` of a path
  // within 50 ms of the first, which is fine for watch (the debounce is
  // longer, and a cycle reads files fresh) but would make this test racy.
  it('sees an atomic save (temp file + rename over) and not the temp file', async () => {
    const r = await rig(['videos.yaml']);
    const ev = r.next('videos.yaml');
    await fs.writeFile(r.p('.videos.yaml.swp'), 'v2');
    await fs.rename(r.p('.videos.yaml.swp'), r.p('videos.yaml'));
    await ev;
    expect(r.seen.every((f) => f === r.p('videos.yaml'))).toBe(true);
  });

  it('keeps watching a file that was deleted and later recreated', async () => {
    const r = await rig(['ref.png']);
    let ev = r.next('ref.png');
    await fs.unlink(r.p('ref.png'));
    await ev;
    ev = r.next('ref.png');
    await fs.writeFile(r.p('ref.png'), 'back');
    await ev;
  });

  it('follows a changing set: new files are reported, dropped ones are not', async () => {
    const r = await rig(['videos.yaml', 'old.png']);
    await fs.mkdir(r.p('refs'));
    await fs.writeFile(r.p('refs/new.png'), 'x');
    r.watcher.setFiles(new Set([r.p('videos.yaml'), r.p('refs/new.png')]));
    // A write to the dropped file, then one to the new file: only the latter is reported.
    await fs.writeFile(r.p('old.png'), 'ignored');
    const ev = r.next('refs/new.png');
    // chokidar may need a moment to set up the new directory; keep writing until seen.
    let n = 0;
    const poke = setInterval(() => void fs.writeFile(r.p('refs/new.png'), `y${n++}`), 50);
    await ev.finally(() => clearInterval(poke));
    expect(r.seen).not.toContain(r.p('old.png'));
  });

  it('a file in a directory that does not exist yet is seen once the directory and file are created', async () => {
    const r = await rig(['videos.yaml']);
    r.watcher.setFiles(new Set([r.p('videos.yaml'), r.p('shots/a.png')]));
    let ev = r.next('shots/a.png');
    await fs.mkdir(r.p('shots'));
    await fs.writeFile(r.p('shots/a.png'), 'x');
    await ev;
    // And it is really watched now, not only reported when its directory appeared.
    ev = r.next('shots/a.png');
    let n = 0;
    const poke = setInterval(() => void fs.writeFile(r.p('shots/a.png'), `y${n++}`), 50);
    await ev.finally(() => clearInterval(poke));
  });

  it('a watched directory deleted and recreated (rm -rf, then a checkout) is watched again', async () => {
    const r = await rig(['videos.yaml']);
    await fs.mkdir(r.p('refs'));
    await fs.writeFile(r.p('refs/a.png'), 'v0');
    r.watcher.setFiles(new Set([r.p('videos.yaml'), r.p('refs/a.png')]));
    let ev = r.next('refs/a.png');
    // chokidar may need a moment to set up the new directory; keep writing until seen.
    let n = 0;
    const poke = setInterval(() => void fs.writeFile(r.p('refs/a.png'), `y${n++}`), 50);
    await ev.finally(() => clearInterval(poke));
    ev = r.next('refs/a.png');
    await fs.rm(r.p('refs'), { recursive: true });
    await ev;
    for (let round = 0; round < 2; round++) {
      ev = r.next('refs/a.png');
      await fs.mkdir(r.p('refs'));
      await fs.writeFile(r.p('refs/a.png'), `back ${round}`);
      await ev;
      // Plain writes with no directory event around them: only a real watch of refs/ sees these.
      ev = r.next('refs/a.png');
      const again = setInterval(() => void fs.writeFile(r.p('refs/a.png'), `z${n++}`), 50);
      await ev.finally(() => clearInterval(again));
      ev = r.next('refs/a.png');
      await fs.rm(r.p('refs'), { recursive: true });
      await ev;
    }
  });
});
