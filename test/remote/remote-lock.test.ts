import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRemoteUrl } from '../../src/manifest/remote-url.js';
import { createS3ObjectStore } from '../../src/remote/s3-object-store.js';
import type { ObjectStore } from '../../src/remote/object-store.js';
import { RemoteLock } from '../../src/remote/remote-lock.js';
import { claimKey, indexKey, parseClaim, serializeClaim, type ClaimRecord } from '../../src/remote/claim-record.js';
import { s3Server, type RunningS3 } from './s3-server.js';
import { mulberry32 as seededRandom } from '../../src/emulator/faults.js';

const WINDOW_MS = 11 * 60_000;

function storeFor(s3: RunningS3): ObjectStore {
  const location = parseRemoteUrl('s3://team/proj');
  if (!location.ok) throw new Error(location.error);
  process.env['AWS_ACCESS_KEY_ID'] = s3.env['AWS_ACCESS_KEY_ID'];
  process.env['AWS_SECRET_ACCESS_KEY'] = s3.env['AWS_SECRET_ACCESS_KEY'];
  return createS3ObjectStore({ location: location.value, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
}

function fp(label: string): string {
  return `sha256:${createHash('sha256').update(label).digest('hex')}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One runner's whole path to a job id through the lock: claim; if held,
 * follow the holder's claim; if it goes away, claim again. The winner
 * "pays" (a counter) and writes its job id.
 */
async function runner(lock: RemoteLock, fingerprint: string, paid: string[], startMs: number): Promise<string> {
  await sleep(startMs);
  for (let attempt = 0; attempt < 50; attempt++) {
    const out = await lock.claim(fingerprint, 't');
    if (out.kind === 'won') {
      const jobId = `video_${lock.runId}`;
      paid.push(jobId);
      const recorded = await lock.recordJob(out.held, jobId);
      if (!recorded.ok) throw new Error(recorded.error.message);
      return jobId;
    }
    if (out.kind === 'held') {
      if (out.other.claim.jobId !== undefined) return out.other.claim.jobId;
      const waited = await lock.waitForJob(out.other);
      if (waited.kind === 'job') return waited.jobId;
      if (waited.kind === 'released') continue;
      throw new Error(`unexpected wait outcome ${waited.kind}`);
    }
    if (out.kind === 'contended') continue;
    throw new Error(`unexpected claim outcome ${JSON.stringify(out)}`);
  }
  throw new Error('no job after 50 attempts');
}

describe('the shared lock (claims) against a real S3 server', () => {
  it('exactly one of several concurrent claimers pays, over many seeded rounds', async () => {
    const s3 = await s3Server();
    const ROUNDS = 40;
    const CLAIMERS = 5;
    let contendedRounds = 0;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      const random = seededRandom(1000 + round);
      const fingerprint = fp(`round-${round}`);
      const paid: string[] = [];
      // One store (S3 client) per claimer, as separate machines would have.
      const locks = Array.from({ length: CLAIMERS }, (_, i) => new RemoteLock(storeFor(s3), { windowMs: WINDOW_MS, runId: `r${round}c${i}`, random, pollMs: 20 }));
      // Most rounds start everyone within a few ms (the worst case); the
      // start offsets come from the seed.
      const jobs = await Promise.all(locks.map((lock) => runner(lock, fingerprint, paid, Math.floor(random() * (round % 2 === 0 ? 3 : 30)))));
      expect(paid, `round ${round}`).toHaveLength(1);
      expect(new Set(jobs), `round ${round}`).toEqual(new Set(paid));
      if (paid.length !== 1) break;
      const listed = await storeFor(s3).list(`claims/${fingerprint.slice(7)}/`);
      expect(listed.ok && listed.value.length, `round ${round}: one claim left, the winner's`).toBe(1);
      contendedRounds += locks.some((l) => l.contentions > 0) ? 1 : 0;
    }
    // For the RELIABILITY.md figures.
    console.log(`remote-lock: ${ROUNDS} rounds x ${CLAIMERS} claimers, ${contendedRounds} rounds with a both-saw-both withdrawal, ${Date.now() - started} ms`);
  }, 120_000);

  it('a claim with a job id is adopted, never retaken; an index entry means done elsewhere', async () => {
    const s3 = await s3Server();
    const store = storeFor(s3);
    const a = new RemoteLock(store, { windowMs: WINDOW_MS, runId: 'a' });
    const b = new RemoteLock(storeFor(s3), { windowMs: WINDOW_MS, runId: 'b' });
    const f = fp('adopt');
    const won = await a.claim(f, 'x');
    if (won.kind !== 'won') throw new Error(won.kind);
    expect(await b.claim(f, 'x')).toMatchObject({ kind: 'held', other: { key: won.held.key } });
    expect((await a.recordJob(won.held, 'video_a1')).ok).toBe(true);
    expect(await b.claim(f, 'x')).toMatchObject({ kind: 'held', other: { claim: { jobId: 'video_a1' } } });
    // Settling keeps the claim while it is the only record; deletes it once the index has the fingerprint.
    expect(await a.settle(won.held, f)).toEqual({ ok: true, value: 'kept' });
    await store.putText(indexKey(f), JSON.stringify({ jobId: 'video_a1' }));
    expect(await a.settle(won.held, f)).toEqual({ ok: true, value: 'deleted' });
    expect(await b.claim(f, 'x')).toEqual({ kind: 'done-elsewhere', jobId: 'video_a1' });
    // A target replacing video_a1 (--replace) is not served by it: it claims and pays.
    expect(await b.claim(f, 'x', { superseded: ['video_a1'] })).toMatchObject({ kind: 'won' });
  });

  it('a withdrawn claim releases its waiters; a dead holder on this machine is stale after the grace, an old one anywhere is expired', async () => {
    const s3 = await s3Server();
    const store = storeFor(s3);
    const a = new RemoteLock(store, { windowMs: WINDOW_MS, runId: 'a' });
    const b = new RemoteLock(storeFor(s3), { windowMs: WINDOW_MS, runId: 'b', pollMs: 20, deadGraceMs: 200 });
    const f = fp('stale');
    const won = await a.claim(f, 'x');
    if (won.kind !== 'won') throw new Error(won.kind);
    const held = await b.claim(f, 'x');
    if (held.kind !== 'held') throw new Error(held.kind);
    const waiting = b.waitForJob(held.other);
    await sleep(50);
    await a.withdraw(won.held);
    expect(await waiting).toEqual({ kind: 'released' });

    // A holder on this machine whose pid is gone (pid 2^22+1 never exists).
    const me = (b as unknown as { me: { host: string; hostId: string } }).me;
    const dead: ClaimRecord = { v: 1, claimId: 'dead-1', runId: 'dead', host: me.host, hostId: me.hostId, pid: 4_194_305, target: 'x', createdAt: new Date().toISOString() };
    await store.putText(claimKey(f, 'dead-1'), serializeClaim(dead));
    const t0 = Date.now();
    const heldDead = await b.claim(f, 'x');
    if (heldDead.kind !== 'held') throw new Error(heldDead.kind);
    expect(await b.waitForJob(heldDead.other)).toMatchObject({ kind: 'stale', why: 'holder-dead' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    // Reconciliation found the job: written into the stale claim, every waiter adopts it.
    expect((await b.adoptStale(heldDead.other, 'video_found')).ok).toBe(true);
    expect(await a.claim(f, 'x')).toMatchObject({ kind: 'held', other: { claim: { jobId: 'video_found', adoptedBy: 'b' } } });
    // Found nothing instead: taken over, the next claim wins.
    await b.takeOver(heldDead.other);
    expect(await b.claim(f, 'x')).toMatchObject({ kind: 'won' });

    // An empty claim, as s3rver keeps a claim PUT cut off by kill -9: its writer never sent a
    // paid call; stale once a write in progress would have landed (5 s), not live for the window.
    const cut = fp('cut-short');
    expect((await store.putText(claimKey(cut, 'killed-1'), '')).ok).toBe(true);
    const t1 = Date.now();
    const heldEmpty = await b.claim(cut, 'x');
    if (heldEmpty.kind !== 'held') throw new Error(heldEmpty.kind);
    expect(await b.waitForJob(heldEmpty.other)).toMatchObject({ kind: 'stale', why: 'holder-dead' });
    expect(Date.now() - t1).toBeGreaterThanOrEqual(4_000);
    expect(Date.now() - t1).toBeLessThan(WINDOW_MS);

    // Another machine's claim: its pid means nothing here, only age does.
    const g = fp('expired');
    const elsewhere: ClaimRecord = { v: 1, claimId: 'far-1', runId: 'far', host: 'ci-7', hostId: 'ci-7/other-boot', pid: 4_194_305, target: 'x', createdAt: new Date().toISOString() };
    await store.putText(claimKey(g, 'far-1'), serializeClaim(elsewhere));
    const later = new RemoteLock(storeFor(s3), { windowMs: WINDOW_MS, runId: 'c', pollMs: 20, now: () => Date.now() + WINDOW_MS + 1_000 });
    const now = new RemoteLock(storeFor(s3), { windowMs: WINDOW_MS, runId: 'd' });
    const farHeld = await later.claim(g, 'x');
    if (farHeld.kind !== 'held') throw new Error(farHeld.kind);
    expect(now.livenessOf(farHeld.other.claim)).toBe('live');
    expect(await later.waitForJob(farHeld.other)).toMatchObject({ kind: 'stale', why: 'expired' });
  });

  it('reads only claims of its own shape', () => {
    const good: ClaimRecord = { v: 1, claimId: 'a-1', runId: 'a', host: 'h', hostId: 'h/b', pid: 1, target: 't', createdAt: new Date(0).toISOString(), jobId: 'video_1' };
    expect(parseClaim(serializeClaim(good))).toEqual(good);
    for (const bad of ['', 'null', '[]', '{"v":2}', JSON.stringify({ ...good, pid: '1' }), JSON.stringify({ ...good, createdAt: 'soon' })]) expect(parseClaim(bad)).toBeUndefined();
  });
});
