import { readFileSync } from 'node:fs';
import { parseCharacterVideoLimits, type CharacterVideoLimits } from '../core/character-video.js';
import { packagePath } from '../core/package-paths.js';

/**
 * What a provider accepts: which models exist, which sizes and durations each
 * takes, and the limits on extensions and characters. Lives in
 * `data/capabilities.json`, not in code, because providers and API versions
 * differ; a manifest may widen it under `provider.capabilities`.
 */
export interface ModelCapabilities {
  readonly sizes: readonly string[];
  readonly seconds: readonly number[];
}

export interface ExtensionLimits {
  /** Durations an extension may add (besides the model's own), e.g. 4, 8, 12, 16, 20. */
  readonly seconds: readonly number[];
  readonly maxSecondsEach: number;
  readonly minSecondsEach: number;
  readonly maxCount: number;
  readonly maxTotalSeconds: number;
}

export interface Capabilities {
  readonly defaults: { readonly model: string; readonly size: string; readonly seconds: number };
  readonly models: ReadonlyMap<string, ModelCapabilities>;
  readonly extension: ExtensionLimits;
  readonly maxCharactersPerVideo: number;
  /** What a character's video must be (the API refuses others when the character is created). */
  readonly characterVideo: CharacterVideoLimits;
}

/** The part of `provider.capabilities` a manifest may set (already schema-checked). */
export interface CapabilityWidening {
  readonly models?: Readonly<Record<string, { readonly sizes?: readonly string[]; readonly seconds?: readonly number[] }>>;
  readonly extension?: Partial<Omit<ExtensionLimits, 'seconds'>> & { readonly seconds?: readonly number[] };
  readonly maxCharactersPerVideo?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`data/capabilities.json: ${what} must be a number`);
  return v;
}
function numbers(v: unknown, what: string): number[] {
  if (!isNumberArray(v)) throw new Error(`data/capabilities.json: ${what} must be a list of numbers`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`data/capabilities.json: ${what} must be a string`);
  return v;
}

/** Parses the shipped table. A malformed table is a packaging bug, so it throws. */
export function parseCapabilities(data: unknown): Capabilities {
  if (!isRecord(data)) throw new Error('data/capabilities.json: not an object');
  const { defaults, models, extension, characters } = data;
  if (!isRecord(defaults) || !isRecord(models) || !isRecord(extension) || !isRecord(characters)) {
    throw new Error('data/capabilities.json: needs defaults, models, extension and characters');
  }
  const modelMap = new Map<string, ModelCapabilities>();
  for (const [name, row] of Object.entries(models)) {
    if (!isRecord(row) || !isStringArray(row['sizes']) || !isNumberArray(row['seconds'])) {
      throw new Error(`data/capabilities.json: models.${name} needs sizes and seconds`);
    }
    modelMap.set(name, { sizes: row['sizes'], seconds: row['seconds'] });
  }
  return {
    defaults: {
      model: str(defaults['model'], 'defaults.model'),
      size: str(defaults['size'], 'defaults.size'),
      seconds: num(defaults['seconds'], 'defaults.seconds'),
    },
    models: modelMap,
    extension: {
      seconds: numbers(extension['seconds'], 'extension.seconds'),
      maxSecondsEach: num(extension['maxSecondsEach'], 'extension.maxSecondsEach'),
      minSecondsEach: num(extension['minSecondsEach'], 'extension.minSecondsEach'),
      maxCount: num(extension['maxCount'], 'extension.maxCount'),
      maxTotalSeconds: num(extension['maxTotalSeconds'], 'extension.maxTotalSeconds'),
    },
    maxCharactersPerVideo: num(characters['maxPerVideo'], 'characters.maxPerVideo'),
    characterVideo: parseCharacterVideoLimits(characters['video']),
  };
}

let shipped: Capabilities | undefined;

/** The table shipped with the package (read once per process: it never changes while running). */
export function shippedCapabilities(): Capabilities {
  shipped ??= parseCapabilities(JSON.parse(readFileSync(packagePath('data', 'capabilities.json'), 'utf8')));
  return shipped;
}

function union<T>(a: readonly T[], b: readonly T[] | undefined): readonly T[] {
  if (b === undefined) return a;
  return [...new Set([...a, ...b])];
}

/**
 * The shipped table widened by a provider's additions, never narrowed: a
 * limit written lower (or, for `minSecondsEach`, higher) than the table's
 * leaves the table's (checks/provider.ts refuses it, with its place).
 */
export function widenCapabilities(base: Capabilities, widening: CapabilityWidening | undefined): Capabilities {
  if (widening === undefined) return base;
  const ext = widening.extension;
  const models = new Map(base.models);
  for (const [name, row] of Object.entries(widening.models ?? {})) {
    const prev = models.get(name) ?? { sizes: [], seconds: [] };
    models.set(name, {
      sizes: union(prev.sizes, row.sizes),
      seconds: [...union(prev.seconds, row.seconds)].sort((x, y) => x - y),
    });
  }
  return {
    defaults: base.defaults,
    models,
    extension: {
      seconds: [...union(base.extension.seconds, ext?.seconds)].sort((x, y) => x - y),
      maxSecondsEach: Math.max(base.extension.maxSecondsEach, ext?.maxSecondsEach ?? 0),
      minSecondsEach: Math.min(base.extension.minSecondsEach, ext?.minSecondsEach ?? Infinity),
      maxCount: Math.max(base.extension.maxCount, ext?.maxCount ?? 0),
      maxTotalSeconds: Math.max(base.extension.maxTotalSeconds, ext?.maxTotalSeconds ?? 0),
    },
    maxCharactersPerVideo: Math.max(base.maxCharactersPerVideo, widening.maxCharactersPerVideo ?? 0),
    characterVideo: base.characterVideo,
  };
}

const DATED_SNAPSHOT = /^(.+)-\d{4}-\d{2}-\d{2}$/;

/** A model's row; dated snapshots (`sora-2-2025-10-06`) fall back to their base model. */
export function modelCapabilities(caps: Capabilities, model: string): ModelCapabilities | undefined {
  const row = caps.models.get(model);
  if (row !== undefined) return row;
  const base = DATED_SNAPSHOT.exec(model)?.[1];
  return base === undefined ? undefined : caps.models.get(base);
}
