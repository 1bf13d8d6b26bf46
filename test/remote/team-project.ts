import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { tempProject } from '../apply/rig.js';

/** N independent targets sharing the team's bucket (`remote:` in the manifest). */
export function teamManifest(n: number, remote = 's3://team/proj'): string {
  const lines = ['version: 1', 'defaults: { model: sora-2, size: 720x1280, seconds: 4 }', 'outDir: out', `remote: ${remote}`, 'videos:'];
  for (let i = 0; i < n; i++) lines.push(`  clip${i}:`, `    prompt: Clip number ${i} of the team reel.`);
  return `${lines.join('\n')}\n`;
}

/** A second clone of a project: the committed files (manifest, lock), no outputs, no .vidbuild. */
export async function cloneOf(dir: string, withLock: boolean): Promise<string> {
  const files: Record<string, string> = { 'videos.yaml': await fsp.readFile(path.join(dir, 'videos.yaml'), 'utf8') };
  if (withLock) files['videos.lock'] = await fsp.readFile(path.join(dir, 'videos.lock'), 'utf8');
  return tempProject(files);
}
