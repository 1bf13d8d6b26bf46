import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { referencedInText } from '../../src/watch/referenced-in-text.js';

async function manifest(text: string): Promise<{ file: string; dir: string }> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-refs-')));
  onTestFinished(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'videos.yaml');
  await fs.writeFile(file, text);
  return { file, dir };
}

describe('referencedInText (the files an invalid manifest names)', () => {
  it('finds every kind of file reference, even when the manifest is invalid otherwise', async () => {
    const { file, dir } = await manifest(
      [
        'version: 1',
        'videos:',
        '  a: { prompt: 12, input_reference: shots/new.png, seconds: 5 }',
        '  b: { prompt: x, extend: { file: clips/src.mp4 } }',
        '  c: { prompt: x, edit: { file: ./clips/../clips/e.mp4 } }',
        '  d: { prompt: x, extend: a }',
        'characters:',
        '  mascot: { video: chars/mascot.mp4 }',
        '',
      ].join('\n'),
    );
    expect([...(await referencedInText(file))].sort()).toEqual(
      ['chars/mascot.mp4', 'clips/e.mp4', 'clips/src.mp4', 'shots/new.png'].map((p) => path.join(dir, p)),
    );
  });

  it('names nothing outside the project, and nothing for text that is not YAML or not there', async () => {
    const outside = await manifest('version: 1\nvideos:\n  a: { prompt: x, input_reference: ../secret.png }\n  b: { prompt: x, input_reference: /etc/passwd }\n');
    expect([...(await referencedInText(outside.file))]).toEqual([]);
    const broken = await manifest('version: 1\nvideos:\n  a: { prompt: [\n');
    expect([...(await referencedInText(broken.file))]).toEqual([]);
    expect([...(await referencedInText(path.join(broken.dir, 'gone.yaml')))]).toEqual([]);
  });
});
