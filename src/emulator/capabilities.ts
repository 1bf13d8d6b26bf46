import fs from 'node:fs/promises';
import { packagePath } from '../core/package-paths.js';
import { parseCharacterVideoLimits, type CharacterVideoLimits } from '../core/character-video.js';

/**
 * What the emulated API accepts, read from the same `data/capabilities.json`
 * the planner validates manifests against, so the two cannot disagree.
 */
export interface Capabilities {
  readonly models: ReadonlyMap<string, { readonly sizes: readonly string[]; readonly seconds: readonly number[] }>;
  readonly allSizes: readonly string[];
  readonly defaults: { readonly model: string; readonly size: string; readonly seconds: number };
  readonly extension: {
    /** Durations an extension may add (`seconds` is an enum, as on create), within min..maxSecondsEach. */
    readonly seconds: readonly number[];
    readonly minSecondsEach: number;
    readonly maxSecondsEach: number;
    readonly maxCount: number;
    readonly maxTotalSeconds: number;
  };
  readonly maxCharactersPerVideo: number;
  /** What a createCharacter video must be: the limits validate checks a manifest's character videos against. */
  readonly characterVideo: CharacterVideoLimits;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' ? v : fallback);
const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

export async function loadCapabilities(): Promise<Capabilities> {
  const raw: unknown = JSON.parse(await fs.readFile(packagePath('data', 'capabilities.json'), 'utf8'));
  if (!isRecord(raw) || !isRecord(raw['models'])) throw new Error('data/capabilities.json: missing "models"');
  const models = new Map<string, { sizes: string[]; seconds: number[] }>();
  for (const [name, m] of Object.entries(raw['models'])) {
    if (isRecord(m)) models.set(name, { sizes: strings(m['sizes']), seconds: numbers(m['seconds']) });
  }
  const defaults = isRecord(raw['defaults']) ? raw['defaults'] : {};
  const ext = isRecord(raw['extension']) ? raw['extension'] : {};
  const chars = isRecord(raw['characters']) ? raw['characters'] : {};
  const minEach = num(ext['minSecondsEach'], 1);
  const maxEach = num(ext['maxSecondsEach'], 20);
  // As validate does (src/manifest/semantic-checks.ts): the extension list and any model's own durations, within the limits.
  const extSeconds = [...new Set([...numbers(ext['seconds']), ...[...models.values()].flatMap((m) => m.seconds)])]
    .filter((s) => s >= minEach && s <= maxEach)
    .sort((a, b) => a - b);
  return {
    models,
    allSizes: [...new Set([...models.values()].flatMap((m) => m.sizes))],
    defaults: { model: str(defaults['model'], 'sora-2'), size: str(defaults['size'], '720x1280'), seconds: num(defaults['seconds'], 4) },
    extension: {
      seconds: extSeconds,
      minSecondsEach: minEach,
      maxSecondsEach: maxEach,
      maxCount: num(ext['maxCount'], 6),
      maxTotalSeconds: num(ext['maxTotalSeconds'], 120),
    },
    maxCharactersPerVideo: num(chars['maxPerVideo'], 2),
    characterVideo: parseCharacterVideoLimits(chars['video']),
  };
}

/**
 * The table with more sizes for some models, as a provider that accepts
 * more than OpenAI does (what a manifest declares under
 * `provider.capabilities`). Lets a test run a size the price table lacks.
 */
export function withExtraSizes(caps: Capabilities, extra: Readonly<Record<string, readonly string[]>>): Capabilities {
  const models = new Map(caps.models);
  for (const [model, sizes] of Object.entries(extra)) {
    const row = models.get(model) ?? { sizes: [], seconds: caps.models.get(caps.defaults.model)?.seconds ?? [] };
    models.set(model, { ...row, sizes: [...new Set([...row.sizes, ...sizes])] });
  }
  return { ...caps, models, allSizes: [...new Set([...models.values()].flatMap((m) => m.sizes))] };
}

/** `sora-2-pro-2025-10-06` → `sora-2-pro`: dated snapshots behave as their base model. */
export function baseModel(caps: Capabilities, model: string): string | null {
  if (caps.models.has(model)) return model;
  const m = /^(.*)-\d{4}-\d{2}-\d{2}$/.exec(model);
  return m?.[1] !== undefined && caps.models.has(m[1]) ? m[1] : null;
}
