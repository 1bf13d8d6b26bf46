// The same work done the way a user would without vidbuild, as its own
// process (so it is timed as vidbuild is: node start-up included): a
// p-limit loop over the official SDK, create + poll at a fixed interval +
// stream the video to disk, hashing it. Used by apply.bench.mjs.
//
//   node bench/naive-loop.mjs BASE_URL N CONCURRENCY POLL_MS OUT_DIR
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import OpenAI from 'openai';
import pLimit from 'p-limit';

const [baseURL, n, c, pollMs, outDir] = process.argv.slice(2);
const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY, baseURL });
const limit = pLimit(Number(c));
const prompt = (i) => `Benchmark clip number ${i}: a paper boat on a pond.`;
await Promise.all(
  Array.from({ length: Number(n) }, (_, i) =>
    limit(async () => {
      let v = await client.videos.create({ prompt: prompt(i), model: 'sora-2', size: '720x1280', seconds: '4' });
      while (v.status === 'queued' || v.status === 'in_progress') {
        await new Promise((res) => setTimeout(res, Number(pollMs)));
        v = await client.videos.retrieve(v.id);
      }
      if (v.status !== 'completed') throw new Error(`job ${v.id} ${v.status}`);
      const res = await client.videos.downloadContent(v.id, { variant: 'video' });
      const hash = createHash('sha256');
      const body = Readable.fromWeb(res.body);
      body.on('data', (chunk) => hash.update(chunk));
      await pipeline(body, createWriteStream(path.join(outDir, `clip${i}.mp4`)));
    }),
  ),
);
