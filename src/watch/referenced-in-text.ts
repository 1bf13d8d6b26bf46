import path from 'node:path';
import { checkProjectPath } from '../manifest/path-safety.js';
import { readBoundedText } from '../manifest/read-bounded.js';

/**
 * The project files an *invalid* manifest refers to, read leniently from its
 * YAML (no schema, no semantics). When an edit is invalid only because it
 * names a file that does not exist yet (`input_reference: refs/new.png`,
 * then the image is exported), watch must be watching that file to notice
 * it arriving; the last good manifest does not name it.
 *
 * Best effort by design: text that is not YAML names nothing. Only paths
 * that stay inside the project are returned (absolute paths).
 */
export async function referencedInText(manifestFile: string): Promise<ReadonlySet<string>> {
  const out = new Set<string>();
  const text = await readBoundedText(manifestFile, manifestFile);
  if (!text.ok) return out;
  // The full parser is only loaded on this (error) path, as in loadManifest.
  const { parseManifestYaml } = await import('../manifest/yaml/parse-yaml.js');
  const parsed = parseManifestYaml(text.value, manifestFile);
  if (!parsed.ok) return out;
  const projectDir = path.dirname(manifestFile);
  const add = (raw: unknown) => {
    if (typeof raw !== 'string') return;
    const checked = checkProjectPath(raw);
    if (checked.ok) out.add(path.resolve(projectDir, checked.path));
  };
  const data = parsed.value.data;
  for (const video of valuesOf(field(data, 'videos'))) {
    add(field(video, 'input_reference'));
    // `extend:` / `edit:` name a target (a string) or a file (`{ file: … }`).
    add(field(field(video, 'extend'), 'file'));
    add(field(field(video, 'edit'), 'file'));
  }
  for (const character of valuesOf(field(data, 'characters'))) add(field(character, 'video'));
  return out;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Reflect.get(value, key) : undefined;
}

function valuesOf(value: unknown): readonly unknown[] {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.values(value) : [];
}
