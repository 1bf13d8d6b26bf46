import { describe, expect, it } from 'vitest';
import { collect, emulator, listJobs, posts, spawnCli } from '../apply/rig.js';
import { s3Server } from './s3-server.js';
import { mulberry32 as seededRandom } from '../../src/emulator/faults.js';
import { applyArgs, applyIn, clones, countEvents, expectComplete, TARGETS } from './clones.js';

/**
 * Issue 10, "done when": two clones of one project (separate folders, the
 * same manifest, one bucket, one emulator) apply the same 20 targets at the
 * same moment; the shared lock makes exactly 20 paid creates between them,
 * and both end with every output. Each round has a fresh emulator and a
 * fresh bucket, so it needs 20 creates again (the prompts stay the
 * same, so the emulator's shared render cache keeps rounds fast).
 */
const ROUNDS = 10;

describe('two clones apply one manifest at the same moment through the shared lock', () => {
  it(`makes exactly ${TARGETS} paid creates in total, ${ROUNDS} rounds, and both end with every output`, async () => {
    // A bucket per round keeps s3rver's listings (a walk of the bucket's folder) small.
    const s3 = await s3Server(Array.from({ length: ROUNDS }, (_, r) => `round-${r}`));
    const figures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const emu = await emulator({ latencyMs: 20 });
      const c = await clones(s3, `round-${round}`);
      const started = Date.now();
      const [ra, rb] = await Promise.all([applyIn(c.a, emu, c.env), applyIn(c.b, emu, c.env)]);
      expect(ra.code, `round ${round} A: ${ra.stderr}`).toBe(0);
      expect(rb.code, `round ${round} B: ${rb.stderr}`).toBe(0);
      const jobs = await listJobs(emu);
      if (posts(emu) !== TARGETS) {
        const byPrompt = new Map<string, string[]>();
        for (const j of jobs) byPrompt.set(j.prompt ?? '', [...(byPrompt.get(j.prompt ?? '') ?? []), j.id]);
        const dups = [...byPrompt.entries()].filter(([, ids]) => ids.length > 1);
        const names = dups.map(([p]) => /clip (\d+)/.exec(p)?.[1]).map((n) => `clip${n}`);
        const grepFor = (out: string): string => out.split('\n').filter((l) => names.some((n) => l.includes(`"${n}"`)) && !l.includes('job-progress')).join('\n');
        console.log(`round ${round} duplicates ${JSON.stringify(dups)}\nA:\n${grepFor(ra.stdout)}\nB:\n${grepFor(rb.stdout)}`);
      }
      expect(posts(emu), `round ${round}: paid POSTs`).toBe(TARGETS);
      expect(jobs).toHaveLength(TARGETS);
      const idsA = await expectComplete(c.a);
      const idsB = await expectComplete(c.b);
      // The same job behind each target in both clones: one paid for it, the other adopted it.
      expect(idsB).toEqual(idsA);
      const adopted = countEvents(ra.stdout, 'remote-claim', 'adopted') + countEvents(rb.stdout, 'remote-claim', 'adopted');
      const waited = countEvents(ra.stdout, 'remote-claim', 'waiting') + countEvents(rb.stdout, 'remote-claim', 'waiting');
      figures.push(`round ${round}: ${posts(emu)} creates, adopted ${adopted}, waited ${waited}, ${Date.now() - started} ms`);
    }
    console.log(figures.join('\n'));
  }, 600_000);
});

describe('kill -9 of one clone at a random moment (seeded), the other carrying on', () => {
  it(`loses nothing and pays nothing twice: every target once on the server, ${ROUNDS} rounds`, async () => {
    const s3 = await s3Server(Array.from({ length: ROUNDS }, (_, r) => `kill-${r}`));
    const random = seededRandom(10);
    const figures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Latency holds each answer after the server acted: a kill at a paid POST usually leaves a job whose id nobody heard.
      const emu = await emulator({ latencyMs: 60 });
      const c = await clones(s3, `kill-${round}`);
      const victim = random() < 0.5 ? 'a' : 'b';
      const atPaid = random() < 0.5;
      const point = atPaid ? 1 + Math.floor(random() * 15) : 300 + Math.floor(random() * 3_000);
      const started = Date.now();
      const children = { a: spawnCli(applyArgs(emu), c.a, c.env), b: spawnCli(applyArgs(emu), c.b, c.env) };
      const results = { a: collect(children.a), b: collect(children.b) };
      // Bounded: the kill point comes within seconds, or the victim finished first.
      for (let i = 0; i < 2_000; i++) {
        if (children[victim].exitCode !== null) break;
        if (atPaid ? posts(emu) >= point : Date.now() - started >= point) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      children[victim].kill('SIGKILL');
      const survivor = victim === 'a' ? 'b' : 'a';
      const kept = await results[survivor];
      const killed = await results[victim];
      expect(kept.code, `round ${round}: the survivor: ${kept.stderr}`).toBe(0);
      const rerun = await applyIn(c[victim], emu, c.env);
      expect(rerun.code, `round ${round}: the killed clone, re-run: ${rerun.stderr}`).toBe(0);

      const jobs = await listJobs(emu);
      const perPrompt = new Map<string, number>();
      for (const j of jobs) perPrompt.set(j.prompt ?? '', (perPrompt.get(j.prompt ?? '') ?? 0) + 1);
      const duplicates = [...perPrompt.values()].filter((n) => n > 1).length;
      expect(duplicates, `round ${round}: prompts made twice`).toBe(0);
      expect(jobs, `round ${round}: jobs on the server`).toHaveLength(TARGETS);
      const idsKept = await expectComplete(c[survivor]);
      const idsRerun = await expectComplete(c[victim]);
      expect(idsRerun).toEqual(idsKept);
      const how = killed.signal === 'SIGKILL' ? `killed ${victim} at ${atPaid ? `paid POST ${point}` : `${point} ms`}` : `${victim} finished before its kill point`;
      const stale = countEvents(kept.stdout, 'remote-claim', 'stale') + countEvents(rerun.stdout, 'remote-claim', 'stale');
      const reconciled = countEvents(rerun.stdout, 'job-reconciled');
      figures.push(`round ${round}: ${how}; ${posts(emu)} paid POSTs, ${jobs.length} jobs, 0 duplicates, 0 lost; stale claims ${stale}, re-run reconciled ${reconciled}; ${Date.now() - started} ms`);
    }
    console.log(figures.join('\n'));
  }, 600_000);
});
