// Rewrites the manifest reference block in README.md from the schema (needs `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { renderManifestReference } = await import(path.join(root, 'dist/manifest/schema-reference.js'));
const schema = JSON.parse(readFileSync(path.join(root, 'schemas/videos.schema.json'), 'utf8'));
const block = renderManifestReference(schema).split('\n').slice(1).join('\n').trim();
const file = path.join(root, 'README.md');
const readme = readFileSync(file, 'utf8');
const START = '<!-- manifest-reference:start -->';
const END = '<!-- manifest-reference:end -->';
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error('README.md has no manifest-reference markers');
writeFileSync(file, `${readme.slice(0, a + START.length)}\n${block}\n${readme.slice(b)}`);
