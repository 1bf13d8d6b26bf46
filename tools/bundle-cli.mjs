// Build step (run by `npm run build` and `prepare`, after tsc): bundles the
// CLI (dist/cli/main.js and what it imports, openai and the other small
// dependencies included) into dist/bundle/, which bin/vidbuild.js runs.
//
// Why: a CLI run loads ~250 ES modules, and on Node 20 (no module compile
// cache) resolving, reading and linking them one by one is most of the
// start-up: `vidbuild apply`'s first create reached the server ~390 ms after
// the process started; bundled, ~250 ms (bench/apply.bench.mjs prints when
// the first job was sent).
//
// Code splitting keeps the lazy imports lazy: the emulator, the YAML parser
// and the remote store stay in chunks loaded only by the runs that need them.
// Left out (loaded from node_modules as before): the S3 SDK (large, only for
// remotes), chokidar (watch only) and the emulator's optional ffmpeg and
// fonts, which locate files relative to their own package.
//
// The library entry (dist/index.js) is not bundled: importers bring their own
// bundler, and tests import the modules directly.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// dist/bundle sits as deep as dist/core, so package-paths.ts finds the package root the same way.
const outdir = path.join(root, 'dist', 'bundle');

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  external: ['@aws-sdk/*', '@smithy/*', 'chokidar', '@ffmpeg-installer/*', 'dejavu-fonts-ttf'],
  // Bundled CommonJS dependencies (ajv, commander, write-file-atomic) expect
  // require, __filename and __dirname, which an ES module does not have.
  banner: {
    js: [
      "import { createRequire as __vidbuildCreateRequire } from 'node:module';",
      "import { fileURLToPath as __vidbuildFileURLToPath } from 'node:url';",
      'const require = __vidbuildCreateRequire(import.meta.url);',
      'const __filename = __vidbuildFileURLToPath(import.meta.url);',
      "const __dirname = __vidbuildFileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  logLevel: 'warning',
});
