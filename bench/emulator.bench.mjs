// Emulator benchmark: render time per size and duration (fresh cache, 24 fps,
// video + thumbnail + spritesheet), and how many `retrieve` requests per
// second the server sustains. Imports the built code from dist/.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RenderCache } from '../dist/emulator/render-cache.js';
import { seedOf } from '../dist/emulator/render-spec.js';
import { startEmulator } from '../dist/emulator/server.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-bench-emulator-'));
try {
  const rows = [];
  const cache = new RenderCache({ dir: path.join(dir, 'renders'), uploadsDir: path.join(dir, 'uploads'), fps: 24 });
  for (const [width, height] of [[720, 1280], [1792, 1024]]) {
    for (const seconds of [4, 12]) {
      const prompt = `bench ${width}x${height} ${seconds}s a kite over a windy beach`;
      const t0 = performance.now();
      await cache.ensure({ kind: 'generate', width, height, seconds, prompt, seed: seedOf(prompt), label: 'generate', reference: null });
      const ms = performance.now() - t0;
      const t1 = performance.now();
      await cache.ensure({ kind: 'generate', width, height, seconds, prompt, seed: seedOf(prompt), label: 'generate', reference: null });
      rows.push({ size: `${width}x${height}`, seconds, 'render (s)': (ms / 1000).toFixed(2), 'cached (ms)': (performance.now() - t1).toFixed(1) });
    }
  }
  console.log('Render: video + thumbnail + spritesheet at 24 fps, fresh cache');
  console.table(rows);

  const emulator = await startEmulator({ dir: path.join(dir, 'state'), jobSeconds: 3600 });
  try {
    const headers = { authorization: 'Bearer bench' };
    const created = await (await fetch(`${emulator.baseURL}/videos`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'bench retrieve' }),
    })).json();
    const url = `${emulator.baseURL}/videos/${created.id}`;
    const rps = [];
    for (const concurrency of [1, 16, 64]) {
      const until = performance.now() + 3000;
      let done = 0;
      const worker = async () => {
        while (performance.now() < until) {
          const res = await fetch(url, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`retrieve answered ${res.status}`);
          done++;
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      rps.push({ concurrency, requests: done, 'req/s': Math.round(done / ((performance.now() - t0) / 1000)) });
    }
    console.log('Retrieve (GET /v1/videos/{id}), client and server in one process, 3 s each');
    console.table(rps);
  } finally {
    await emulator.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
