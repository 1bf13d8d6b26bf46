// Build step (run by `npm run build` and `prepare`, after tsc): compiles the
// happy-path JSON Schema validators to standalone code in dist/generated/, so
// a run never pays for ajv's compiler. Each module is stamped with the sha256
// of the schema text it came from; src/manifest/compiled-schemas.ts ignores a
// stale one and compiles at run time instead.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { COMPILED_SCHEMAS, GENERATED_DIR, schemaSha256 } = await import(path.join(root, 'dist/manifest/compiled-schemas.js'));

const outDir = path.join(root, ...GENERATED_DIR);
mkdirSync(outDir, { recursive: true });
for (const spec of Object.values(COMPILED_SCHEMAS)) {
  const text = readFileSync(path.join(root, 'schemas', spec.schemaFile), 'utf8');
  const ajv = new Ajv2020({ ...spec.ajvOptions, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(JSON.parse(text)));
  const out = path.join(outDir, spec.moduleFile);
  writeFileSync(`${out}.tmp`, `${code}\nmodule.exports.schemaSha256 = ${JSON.stringify(schemaSha256(text))};\n`);
  renameSync(`${out}.tmp`, out);
}
