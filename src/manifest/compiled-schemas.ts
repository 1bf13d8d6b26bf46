import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packagePath } from '../core/package-paths.js';

/**
 * The happy-path JSON Schema validators, precompiled at build time.
 *
 * Compiling a draft 2020-12 schema with ajv costs ~50 ms per schema (plus
 * ~30 ms to import ajv's compiler), which a `vidbuild plan` pays on every
 * run. `npm run build` runs tools/compile-schemas.mjs, which writes each
 * schema's validator as standalone code to `dist/generated/`, stamped with
 * the sha256 of the schema text it was compiled from. Here we load it, and
 * fall back to compiling at run time when it is missing (running from
 * `src/` under vitest before a build) or stale (a schema edited since the
 * last build): the result is the same validator either way.
 */

export type SchemaGuard<T> = (data: unknown) => data is T;

/** One schema: its file under `schemas/`, the module the build writes, and the ajv options (shared with the build). */
export interface CompiledSchemaSpec {
  readonly schemaFile: string;
  readonly moduleFile: string;
  readonly ajvOptions: { readonly strict: true; readonly allowUnionTypes?: boolean };
}

export const COMPILED_SCHEMAS = {
  manifest: { schemaFile: 'videos.schema.json', moduleFile: 'videos.schema.validate.cjs', ajvOptions: { strict: true, allowUnionTypes: true } },
  lock: { schemaFile: 'videos.lock.schema.json', moduleFile: 'videos.lock.schema.validate.cjs', ajvOptions: { strict: true } },
} as const satisfies Record<string, CompiledSchemaSpec>;

export type CompiledSchemaName = keyof typeof COMPILED_SCHEMAS;

/** Where the build puts the generated validators (relative to the package root). */
export const GENERATED_DIR = ['dist', 'generated'] as const;

const requireHere = createRequire(import.meta.url);

export function schemaSha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The first-error validator for `name`: precompiled when the build made a current one, else compiled now. */
export function schemaGuard<T>(name: CompiledSchemaName): SchemaGuard<T> {
  const spec: CompiledSchemaSpec = COMPILED_SCHEMAS[name];
  const text = readFileSync(packagePath('schemas', spec.schemaFile), 'utf8');
  return precompiled<T>(spec, schemaSha256(text)) ?? compileNow<T>(spec, text);
}

function precompiled<T>(spec: CompiledSchemaSpec, sha: string): SchemaGuard<T> | undefined {
  let mod: unknown;
  try {
    mod = requireHere(packagePath(...GENERATED_DIR, spec.moduleFile));
  } catch {
    return undefined; // not built yet
  }
  if (typeof mod !== 'function' || Reflect.get(mod, 'schemaSha256') !== sha) return undefined;
  return (data: unknown): data is T => mod(data) === true;
}

function compileNow<T>(spec: CompiledSchemaSpec, text: string): SchemaGuard<T> {
  const schema: unknown = JSON.parse(text);
  if (typeof schema !== 'object' || schema === null) throw new Error(`${spec.schemaFile}: not a JSON Schema object`);
  const validate = new (ajv2020())({ ...spec.ajvOptions }).compile(schema);
  return (data: unknown): data is T => validate(data);
}

/**
 * ajv's compiler, loaded only when something needs compiling (a stale build,
 * or explaining an invalid document): importing it costs ~30 ms.
 */
export function ajv2020(): typeof import('ajv/dist/2020.js').Ajv2020 {
  const mod: typeof import('ajv/dist/2020.js') = requireHere('ajv/dist/2020.js');
  return mod.Ajv2020;
}
