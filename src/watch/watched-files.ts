import path from 'node:path';
import { referencedFilesOf, type Manifest } from '../manifest/manifest.js';

/**
 * The files whose change can change a plan: the manifest itself and every
 * project file it references (input_reference images, edit/extend source
 * files, character videos). Absolute paths. Outputs are not watched: apply
 * writes them, and watching them would make every run trigger another.
 */
export function watchedFilesOf(manifest: Manifest): ReadonlySet<string> {
  const files = new Set<string>([path.resolve(manifest.file)]);
  for (const target of manifest.targets.values()) {
    for (const p of referencedFilesOf(target)) files.add(path.resolve(manifest.projectDir, p));
  }
  for (const character of manifest.characters.values()) {
    files.add(path.resolve(manifest.projectDir, character.video));
  }
  return files;
}
