import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';
import { packagePath } from '../core/package-paths.js';
import { ajv2020, schemaGuard, type SchemaGuard } from './compiled-schemas.js';
import { closestMatch, didYouMean } from './did-you-mean.js';
import { looksLikeApiKey, redactUrl } from './provider-checks.js';
import type { RawManifest } from './raw-manifest.js';
import { pointerSegments, type PathSegment, type ManifestLocator } from './locator.js';
import { narrowOneOf, oneOfChoices } from './schema-one-of.js';

export const SCHEMA_FILE = packagePath('schemas', 'videos.schema.json');

function readSchema(): Record<string, unknown> {
  const schema: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  if (!isRecord(schema)) throw new Error(`${SCHEMA_FILE}: not a JSON Schema object`);
  return schema;
}

let quick: SchemaGuard<RawManifest> | undefined;

/**
 * The happy-path validator: stops at the first error, so it is cheap to
 * run; precompiled by the build (see compiled-schemas.ts). Loaded once per
 * process (the schema never changes while we run).
 */
function quickValidator(): SchemaGuard<RawManifest> {
  quick ??= schemaGuard<RawManifest>('manifest');
  return quick;
}

interface DetailedValidators {
  readonly shell: ValidateFunction;
  readonly video: ValidateFunction;
  readonly character: ValidateFunction;
}

let detailed: DetailedValidators | undefined;

/**
 * The validators that explain what is wrong, compiled only when something
 * is. The top level and each target are validated separately: one
 * `allErrors` pass over the whole document merges error arrays per level,
 * which is quadratic in the number of broken targets.
 */
function detailedValidators(): DetailedValidators {
  if (detailed !== undefined) return detailed;
  const schema = readSchema();
  const Ajv2020 = ajv2020();
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  const id = String(schema['$id']);
  ajv.addSchema(schema);
  const props = isRecord(schema['properties']) ? schema['properties'] : {};
  const shellSchema = {
    ...schema,
    $id: `${id.replace(/\.json$/, '')}-shell.json`,
    properties: {
      ...props,
      videos: { ...(isRecord(props['videos']) ? props['videos'] : {}), additionalProperties: true },
      characters: { ...(isRecord(props['characters']) ? props['characters'] : {}), additionalProperties: true },
    },
  };
  const video = ajv.getSchema(`${id}#/$defs/video`);
  const character = ajv.getSchema(`${id}#/$defs/character`);
  if (video === undefined || character === undefined) throw new Error(`${SCHEMA_FILE}: $defs.video and $defs.character are required`);
  detailed = { shell: ajv.compile(shellSchema), video, character };
  return detailed;
}

function escapePointer(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Every schema violation, target by target (linear in the number of targets). */
function collectErrors(data: unknown): ErrorObject[] {
  const v = detailedValidators();
  const out: ErrorObject[] = [];
  if (!v.shell(data)) out.push(...(v.shell.errors ?? []));
  if (!isRecord(data)) return out;
  for (const [section, validate] of [['videos', v.video], ['characters', v.character]] as const) {
    const entries = data[section];
    if (!isRecord(entries)) continue;
    for (const [name, entry] of Object.entries(entries)) {
      if (validate(entry)) continue;
      const prefix = `/${section}/${escapePointer(name)}`;
      for (const e of validate.errors ?? []) out.push({ ...e, instancePath: prefix + e.instancePath });
    }
  }
  return out;
}

/**
 * The outcome of the shape check. `partial` means every violation is inside
 * individual targets or characters: the rest of the manifest is valid on its
 * own, so the semantic checks can still run on it and report their errors in
 * the same pass, instead of one layer of errors per run.
 */
export type SchemaOutcome =
  | { readonly kind: 'valid'; readonly raw: RawManifest }
  | {
      readonly kind: 'partial';
      readonly raw: RawManifest;
      readonly errors: readonly Diagnostic[];
      readonly brokenTargets: ReadonlySet<string>;
      readonly brokenCharacters: ReadonlySet<string>;
    }
  | { readonly kind: 'invalid'; readonly errors: readonly Diagnostic[] };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function without(map: unknown, names: ReadonlySet<string>): unknown {
  if (!isRecord(map) || names.size === 0) return map;
  return Object.fromEntries(Object.entries(map).filter(([k]) => !names.has(k)));
}

/** Checks the shape of the manifest's data; every violation becomes a located diagnostic. */
export function validateSchema(data: unknown, locator: ManifestLocator): SchemaOutcome {
  const validate = quickValidator();
  if (validate(data)) return { kind: 'valid', raw: data };
  const errors = collectErrors(data);
  const diagnostics = describeErrors(errors, locator);

  const brokenTargets = new Set<string>();
  const brokenCharacters = new Set<string>();
  let global = false;
  for (const e of errors) {
    const [first, second] = pointerSegments(e.instancePath);
    if (first === 'videos' && second !== undefined) brokenTargets.add(String(second));
    else if (first === 'characters' && second !== undefined) brokenCharacters.add(String(second));
    else global = true;
  }
  if (global || !isRecord(data)) return { kind: 'invalid', errors: diagnostics };
  const pruned = { ...data, videos: without(data['videos'], brokenTargets), characters: without(data['characters'], brokenCharacters) };
  if (data['characters'] === undefined) delete pruned.characters;
  if (!validate(pruned)) return { kind: 'invalid', errors: diagnostics };
  return { kind: 'partial', raw: pruned, errors: diagnostics, brokenTargets, brokenCharacters };
}

/**
 * Past this many schema errors the file is not a manifest with typos (a
 * generated or hostile one): "did you mean" hints, which compare names, are
 * skipped so the refusal stays fast.
 */
const MAX_HINTED_ERRORS = 1000;

function describeErrors(all: readonly ErrorObject[], locator: ManifestLocator): Diagnostic[] {
  const errors = narrowOneOf(all);
  const hints = errors.length <= MAX_HINTED_ERRORS;
  // A misspelt required key shows up twice (unknown `promt`, missing `prompt`): keep the hint only.
  const suggested = new Set<string>();
  for (const e of hints ? errors : []) {
    if (e.keyword !== 'additionalProperties') continue;
    const props: unknown = e.parentSchema?.['properties'];
    const candidates = typeof props === 'object' && props !== null ? Object.keys(props) : [];
    const match = closestMatch(String(e.params['additionalProperty']), candidates);
    if (match !== undefined) suggested.add(`${e.instancePath}\u0000${match}`);
  }
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'required' && suggested.has(`${e.instancePath}\u0000${String(e.params['missingProperty'])}`)) continue;
    const d = describeError(e, locator, hints);
    if (d === undefined) continue;
    const key = `${d.location?.line}:${d.location?.col}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/** `video \`intro\``, `character \`mascot\``, `\`defaults\``… for messages. */
export function ownerLabel(segments: readonly PathSegment[]): string {
  const [first, second] = segments;
  if (segments.length === 0) return 'at the top level';
  const rest = segments.slice(2).join('.');
  const within = rest === '' ? 'in' : `in \`${rest}\` of`;
  if (first === 'videos' && second !== undefined) return `${within} video \`${second}\``;
  if (first === 'characters' && second !== undefined) return `${within} character \`${second}\``;
  return `in \`${segments.join('.')}\``;
}

function fieldLabel(segments: readonly PathSegment[]): string {
  const last = segments[segments.length - 1];
  if (last === undefined) return 'the manifest';
  if (typeof last === 'number' || /^\d+$/.test(last)) {
    const parent = segments[segments.length - 2];
    return `each entry of \`${String(parent)}\``;
  }
  if (segments.length === 2 && segments[0] === 'videos') return `video \`${last}\``;
  if (segments.length === 2 && segments[0] === 'characters') return `character \`${last}\``;
  return `\`${last}\``;
}

/** A short, safe rendering of a value for "(got …)". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  // Explicit tags (`!!binary`, `!!set`) make values JSON has no word for.
  if (ArrayBuffer.isView(value)) return 'binary data';
  if (value instanceof Set) return 'a set';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

function typeWord(type: string): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'object':
      return 'a map';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    default:
      return type;
  }
}

const FIELD_FORMATS: Readonly<Record<string, string>> = {
  size: 'WIDTHxHEIGHT, e.g. 1280x720',
  sizes: 'WIDTHxHEIGHT, e.g. 1280x720',
  baseURL: 'an http(s) URL such as https://api.example.com/v1',
  apiKeyEnv: 'an environment variable name such as OPENAI_API_KEY',
  seconds: 'a whole number of seconds from 1 to 600, e.g. 8',
  image_url: 'an https URL such as https://cdn.example.com/ref.png (a local image is a path instead)',
  file_id: "an uploaded file's id such as file-abc123",
  sha256: '64 lowercase hex digits (as sha256sum prints them)',
  remote: 'an s3://bucket/prefix URL such as s3://my-team-videos/vidbuild',
  url: 'an s3://bucket/prefix URL such as s3://my-team-videos/vidbuild',
  endpoint: 'an http(s) URL such as https://ACCOUNT.r2.cloudflarestorage.com or http://127.0.0.1:9000',
  region: 'a region name in lowercase letters, digits and -, such as us-east-1 (R2: auto)',
  apiKeyHeader: 'an HTTP header name such as api-key (letters, digits and -, no spaces)',
};

function describeError(e: ErrorObject, locator: ManifestLocator, hints: boolean): Diagnostic | undefined {
  const hint = (word: string, candidates: readonly string[]): string => (hints ? didYouMean(word, candidates) : '');
  const segments = pointerSegments(e.instancePath);
  // A number as written: a double cannot hold `99999999999999999999` (it would read 100000000000000000000).
  const got = (typeof e.data === 'number' ? locator.writtenNumber(segments) : undefined) ?? describeValue(e.data);
  const label = fieldLabel(segments);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params['additionalProperty']);
      const props: unknown = e.parentSchema?.['properties'];
      const candidates = typeof props === 'object' && props !== null ? Object.keys(props) : [];
      const where = locator.keyOf([...segments, key]);
      if (/^api_?key$/i.test(key)) {
        return errorDiagnostic(
          'unknown-key',
          `unknown key \`${key}\` ${ownerLabel(segments)}; never put an API key in the manifest: set \`apiKeyEnv\` to the name of an environment variable`,
          where,
        );
      }
      if (/\s/.test(key)) {
        return errorDiagnostic(
          'unknown-key',
          `unknown key \`${key}\` ${ownerLabel(segments)}; if this is part of a text, quote the text (a comma inside \`{ }\` starts a new key)`,
          where,
        );
      }
      if (segments.length === 0 && /^x[_.]/i.test(key)) {
        return errorDiagnostic('unknown-key', `unknown key \`${key}\` at the top level; keys of your own (e.g. for YAML anchors) start with \`x-\``, where);
      }
      return errorDiagnostic('unknown-key', `unknown key \`${key}\` ${ownerLabel(segments)}${hint(key, candidates)}`, where);
    }
    case 'required': {
      const missing = String(e.params['missingProperty']);
      if (segments.length === 0) {
        const hint = missing === 'version' ? 'add `version: 1`' : 'add a `videos:` map of targets';
        return errorDiagnostic('missing-key', `missing required key \`${missing}\` (${hint})`, { file: locator.file, line: 1, col: 1 });
      }
      if (segments[segments.length - 2] === 'extend' || segments[segments.length - 2] === 'edit' || segments[segments.length - 1] === 'extend' || segments[segments.length - 1] === 'edit') {
        return errorDiagnostic('missing-key', `${label} must be a target name or \`{ file: path }\` (missing \`file\`)`, locator.valueOf(segments));
      }
      return errorDiagnostic('missing-key', `${fieldLabel(segments)} is missing required key \`${missing}\``, locator.keyOf(segments));
    }
    case 'type': {
      const where = locator.valueOf(segments);
      const last = segments[segments.length - 1];
      if (last === 'remix' && Array.isArray(e.data)) {
        return errorDiagnostic('bad-type', '`remix` takes the name of one other target (got a list); remix each source in a target of its own', where);
      }
      if (last === 'remix' && e.data !== null && typeof e.data === 'object') {
        return errorDiagnostic('remix-file', '`remix` takes the name of another target, not a file (use `edit: { file: ... }` to change a local video)', where);
      }
      if (segments.length === 0) {
        // A file whose top level is not a map is likely no manifest at all
        // (a .env, a password file, a wrong -f): never quote its content.
        const what = typeof e.data === 'string' ? `a text of ${e.data.length} characters` : describeValue(e.data);
        return errorDiagnostic('bad-type', `the manifest must be a map with \`version\` and \`videos\` (got ${what}; is this the right file?)`, { file: locator.file, line: 1, col: 1 });
      }
      const types = String(e.params['type']).split(',');
      if (types.includes('object') && types.includes('string')) {
        return errorDiagnostic('bad-type', `${label} must be a target name or \`{ file: path }\` (got ${got})`, where);
      }
      if (segments.length === 2 && segments[0] === 'videos') {
        return errorDiagnostic('bad-type', `${label} must be a map with at least \`prompt\` (got ${got})`, where);
      }
      // Seconds may be quoted, but a person thinks of them as a number.
      const words = types.includes('integer') ? types.filter((t) => t !== 'string') : types;
      return errorDiagnostic('bad-type', `${label} must be ${words.map(typeWord).join(' or ')} (got ${got})`, where);
    }
    case 'oneOf': {
      const both = isRecord(e.data) && 'image_url' in e.data && 'file_id' in e.data ? '; give only one of `image_url` or `file_id`' : '';
      return errorDiagnostic('bad-value', `${label} must be ${oneOfChoices(e)} (got ${got}${both})`, locator.valueOf(segments));
    }
    case 'const':
      return errorDiagnostic('bad-value', `${label} must be ${JSON.stringify(e.params['allowedValue'])} (got ${got})`, locator.valueOf(segments));
    case 'enum': {
      const allowed: unknown = e.params['allowedValues'];
      const list = Array.isArray(allowed) ? allowed.map(String) : [];
      const suggestion = typeof e.data === 'string' ? hint(e.data, list) : '';
      return errorDiagnostic('bad-value', `${label} must be one of ${list.join(', ')} (got ${got})${suggestion}`, locator.valueOf(segments));
    }
    case 'pattern': {
      const field = segments.filter((s) => typeof s === 'string' && !/^\d+$/.test(s)).pop();
      const format = (field !== undefined ? FIELD_FORMATS[String(field)] : undefined) ?? 'in the form docs/manifest-reference.md gives for it';
      if (field === 'apiKeyEnv') {
        // The value is never repeated: it may be the key itself, pasted in the wrong place.
        const message =
          typeof e.data === 'string' && looksLikeApiKey(e.data)
            ? `${label} must name the environment variable that holds the key (such as OPENAI_API_KEY), not be the key itself; remove the key from the manifest (and rotate it if the file was shared)`
            : `${label} must be ${format}: letters, digits and _, not starting with a digit`;
        return errorDiagnostic('bad-value', message, locator.valueOf(segments));
      }
      const shown = (field === 'baseURL' || field === 'image_url') && typeof e.data === 'string' ? describeValue(redactUrl(e.data)) : got;
      return errorDiagnostic('bad-value', `${label} must be ${format} (got ${shown})`, locator.valueOf(segments));
    }
    case 'minimum':
    case 'exclusiveMinimum':
      return errorDiagnostic('bad-value', `${label} must be at least ${String(e.params['limit'])} (got ${got})`, locator.valueOf(segments));
    case 'maximum':
    case 'exclusiveMaximum':
      return errorDiagnostic('bad-value', `${label} must be at most ${String(e.params['limit'])} (got ${got})`, locator.valueOf(segments));
    case 'minLength':
      return errorDiagnostic('bad-value', `${label} must not be empty`, locator.valueOf(segments));
    case 'maxLength':
      return errorDiagnostic('bad-value', `${label} is too long (at most ${String(e.params['limit'])} characters)`, locator.valueOf(segments));
    case 'minItems':
      return errorDiagnostic('bad-value', `${label} must list at least ${String(e.params['limit'])} entry`, locator.valueOf(segments));
    case 'uniqueItems': {
      const j = Number(e.params['j']);
      const item: unknown = Array.isArray(e.data) ? e.data[j] : undefined;
      return errorDiagnostic('duplicate-item', `${label} lists ${describeValue(item)} twice`, locator.valueOf([...segments, Math.max(j, Number(e.params['i']))]));
    }
    case 'false schema': {
      // Only dependentSchemas use `false`: `.../dependentSchemas/<present>/properties/<forbidden>/false schema`.
      const m = /dependentSchemas\/([^/]+)\/properties\/([^/]+)\//.exec(e.schemaPath);
      const present = m?.[1] ?? 'this';
      const forbidden = m?.[2] ?? String(segments[segments.length - 1]);
      const message =
        forbidden === 'input_reference'
          ? `\`input_reference\` only applies to a generated video, not to one made with \`${present}\``
          : `a video takes only one of \`remix\`, \`extend\`, \`edit\` (this one has \`${present}\` and \`${forbidden}\`)`;
      return errorDiagnostic('conflicting-keys', message, locator.keyOf(segments));
    }
    default:
      return errorDiagnostic('schema', `${label} ${e.message ?? 'is invalid'}`, locator.valueOf(segments));
  }
}
