// Preloaded into a watch child process (NODE_OPTIONS=--require): counts reads
// of cache index entries (.vidbuild/cache/index/*.json) and prints the count
// to stderr as `index-reads N` on SIGUSR2, so a test can measure how much
// work one cycle does without timing anything.
'use strict';
const fsp = require('node:fs/promises');
const path = require('node:path');
const { syncBuiltinESMExports } = require('node:module');

const marker = `${path.sep}.vidbuild${path.sep}cache${path.sep}index${path.sep}`;
const readFile = fsp.readFile;
let reads = 0;
fsp.readFile = function countedReadFile(file, ...rest) {
  if (typeof file === 'string' && file.includes(marker)) reads++;
  return readFile.call(this, file, ...rest);
};
// Make `import { readFile } from 'node:fs/promises'` see the counting one.
syncBuiltinESMExports();
process.on('SIGUSR2', () => process.stderr.write(`index-reads ${reads}\n`));
