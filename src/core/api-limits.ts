import { readFileSync } from 'node:fs';
import { packagePath } from './package-paths.js';

/**
 * What the OpenAI OpenAPI spec's video schemas allow: string lengths, enums
 * and ranges. They live in `data/api-limits.json`, the one place the emulator
 * (its request validation), validate (a manifest's references) and the test
 * that drives the emulator at each limit read them from, so the three cannot
 * disagree. What each model accepts is narrower and lives in
 * `data/capabilities.json`; a test holds it inside these.
 */
export interface LengthLimit {
  readonly minLength: number;
  readonly maxLength: number;
}

export interface ApiLimits {
  readonly prompt: LengthLimit;
  readonly characterName: LengthLimit;
  readonly imageUrl: { readonly maxLength: number };
  /** An uploaded file's id (`file-…`); the shape is vidbuild's, the spec says only "string". */
  readonly fileId: LengthLimit & { readonly pattern: RegExp };
  readonly models: readonly string[];
  readonly sizes: readonly string[];
  readonly seconds: readonly string[];
  readonly extensionSeconds: readonly string[];
  readonly listLimit: { readonly minimum: number; readonly maximum: number; readonly default: number };
  readonly listOrder: readonly string[];
  readonly contentVariants: readonly string[];
}

const FILE = 'data/api-limits.json';

type Rec = Readonly<Record<string, unknown>>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(root: Rec, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) node = isRec(node) ? node[key] : undefined;
  return node;
}

/** Parses the shipped table; a broken one is a packaging bug, so it throws. */
export function parseApiLimits(data: unknown): ApiLimits {
  if (!isRec(data)) throw new Error(`${FILE}: not an object`);
  const num = (path: string): number => {
    const v = at(data, path);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${FILE}: ${path} must be an integer`);
    return v;
  };
  const strings = (path: string): readonly string[] => {
    const v = at(data, path);
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error(`${FILE}: ${path} must be a list of strings`);
    return v;
  };
  const length = (path: string): LengthLimit => ({ minLength: num(`${path}.minLength`), maxLength: num(`${path}.maxLength`) });
  const pattern = at(data, 'inputReference.fileId.pattern');
  if (typeof pattern !== 'string') throw new Error(`${FILE}: inputReference.fileId.pattern must be a string`);
  return {
    prompt: length('prompt'),
    characterName: length('characterName'),
    imageUrl: { maxLength: num('inputReference.imageUrl.maxLength') },
    fileId: { ...length('inputReference.fileId'), pattern: new RegExp(pattern) },
    models: strings('models'),
    sizes: strings('sizes'),
    seconds: strings('seconds'),
    extensionSeconds: strings('extensionSeconds'),
    listLimit: { minimum: num('list.limit.minimum'), maximum: num('list.limit.maximum'), default: num('list.limit.default') },
    listOrder: strings('list.order'),
    contentVariants: strings('contentVariants'),
  };
}

let shipped: ApiLimits | undefined;

/** The table shipped with the package, read once per process (it never changes while running). */
export function apiLimits(): ApiLimits {
  shipped ??= parseApiLimits(JSON.parse(readFileSync(packagePath(FILE), 'utf8')));
  return shipped;
}
