import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore, type JobRecord } from '../../src/emulator/state-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

/** Only what the store itself reads: it persists records, it does not interpret them. */
function job(id: string, seq: number): JobRecord {
  return { id, seq } as unknown as JobRecord;
}

function idsOnDisk(dir: string): string[] {
  const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as { jobs: { id: string }[] };
  return state.jobs.map((j) => j.id);
}

describe('StateStore.save', () => {
  it('resolves each call only once its own change is on disk, however many calls overlap', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidbuild-state-'));
    dirs.push(dir);
    const store = await StateStore.open(dir);
    const checks: Promise<void>[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        const id = `video_${round}_${i}`;
        store.jobs.set(id, job(id, store.takeSeq()));
        // Read synchronously the moment the call resolves: no later write can have run yet.
        checks.push(store.save().then(() => expect(idsOnDisk(dir)).toContain(id)));
      }
      // The next round starts while writes of this one may still be in flight.
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(checks);
    await store.close();
    const reopened = await StateStore.open(dir);
    expect([...reopened.jobs.keys()]).toHaveLength(60);
    await reopened.close();
  });
});
