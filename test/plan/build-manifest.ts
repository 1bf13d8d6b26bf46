import type {
  AssetVariant,
  Character,
  CharacterName,
  Manifest,
  ProjectPath,
  SourceRef,
  Target,
  TargetName,
} from '../../src/manifest/manifest.js';

/**
 * Builds validated Manifest objects directly, so planner tests need no files,
 * no YAML and no loader. Targets must be given sources-first (as the loader
 * orders them).
 */
export type TargetSpec =
  | { name: string; kind?: 'generate'; prompt?: string; model?: string; size?: string; seconds?: number; input?: string; characters?: string[]; assets?: AssetVariant[] }
  | { name: string; kind: 'remix'; source: string; prompt?: string; assets?: AssetVariant[] }
  | { name: string; kind: 'edit'; source: string | { file: string }; prompt?: string; assets?: AssetVariant[] }
  | { name: string; kind: 'extend'; source: string | { file: string }; add?: number; prompt?: string; assets?: AssetVariant[] };

export const tn = (s: string): TargetName => s as TargetName;
export const pp = (s: string): ProjectPath => s as ProjectPath;
const cn = (s: string): CharacterName => s as CharacterName;

const loc = { file: 'videos.yaml', line: 1, col: 1 };

export function buildManifest(specs: readonly TargetSpec[], characters: Record<string, string> = {}, outDir = 'videos'): Manifest {
  const targets = new Map<TargetName, Target>();
  for (const spec of specs) {
    const assets: readonly AssetVariant[] = spec.assets ?? ['video'];
    const outputs: Partial<Record<AssetVariant, ProjectPath>> = {};
    for (const a of assets) {
      outputs[a] = pp(`${outDir}/${spec.name}${a === 'video' ? '.mp4' : a === 'thumbnail' ? '.thumbnail.webp' : '.spritesheet.jpg'}`);
    }
    const common = { name: tn(spec.name), prompt: spec.prompt ?? `prompt of ${spec.name}`, assets, outputs, location: loc };
    if (!('source' in spec)) {
      targets.set(tn(spec.name), {
        ...common,
        kind: 'generate',
        model: spec.model ?? 'sora-2',
        size: spec.size ?? '720x1280',
        seconds: spec.seconds ?? 4,
        characters: (spec.characters ?? []).map(cn),
        inputReference: spec.input === undefined ? undefined : { type: 'file', path: pp(spec.input) },
      });
      continue;
    }
    const src: SourceRef =
      typeof spec.source === 'string' ? { type: 'target', name: tn(spec.source) } : { type: 'file', path: pp(spec.source.file) };
    const parent = src.type === 'target' ? targets.get(src.name) : undefined;
    const model = parent?.model ?? 'sora-2';
    const size = parent?.size ?? '720x1280';
    const baseSeconds = parent?.seconds ?? 4;
    const base = { ...common, model, size, characters: [] };
    if (spec.kind === 'remix') {
      if (src.type !== 'target') throw new Error('remix needs a target');
      targets.set(tn(spec.name), { ...base, kind: 'remix', source: src, seconds: baseSeconds });
    } else if (spec.kind === 'edit') {
      targets.set(tn(spec.name), { ...base, kind: 'edit', source: src, seconds: baseSeconds });
    } else {
      const add = spec.add ?? 4;
      targets.set(tn(spec.name), { ...base, kind: 'extend', source: src, addSeconds: add, seconds: baseSeconds + add });
    }
  }
  const chars = new Map<CharacterName, Character>();
  for (const [name, video] of Object.entries(characters)) chars.set(cn(name), { name: cn(name), video: pp(video), location: loc });
  return {
    file: '/project/videos.yaml',
    projectDir: '/project',
    version: 1,
    outDir: pp(outDir),
    concurrency: undefined,
    retryFailed: false,
    provider: undefined,
    remote: undefined,
    pricing: {},
    characters: chars,
    targets,
  };
}
