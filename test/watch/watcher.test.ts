import { describe, expect, it } from 'vitest';
import { Watcher, type CycleRequest, type WatcherState } from '../../src/watch/watcher.js';

/**
 * The state machine with a fake cycle: each cycle waits until the test
 * releases it, so every transition is driven explicitly (no sleeps).
 */
function rig(debounceMs = 5) {
  const requests: CycleRequest[] = [];
  const releases: Array<() => void> = [];
  const transitions: string[] = [];
  const waiters: Array<{ state: WatcherState; resolve: () => void }> = [];
  const cycleStarted: Array<() => void> = [];
  const watcher = new Watcher({
    debounceMs,
    runCycle: (request) => {
      requests.push(request);
      for (const f of cycleStarted.splice(0)) f();
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    onTransition: (from, to) => {
      transitions.push(`${from}->${to}`);
      for (const w of waiters.filter((x) => x.state === to)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
  });
  const reach = (state: WatcherState) =>
    watcher.state === state ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ state, resolve }));
  const release = () => {
    const r = releases.shift();
    if (r === undefined) throw new Error('no cycle running');
    r();
  };
  const nextCycle = () => new Promise<void>((resolve) => cycleStarted.push(resolve));
  return { watcher, requests, transitions, reach, release, nextCycle };
}

describe('Watcher state machine', () => {
  it('runs a first cycle, then one cycle per burst of changes', async () => {
    const r = rig();
    const finished = r.watcher.start();
    expect(r.watcher.state).toBe('running');
    expect(r.requests[0]?.number).toBe(1);
    r.release();
    await r.reach('watching');

    const second = r.nextCycle();
    r.watcher.fileChanged('/p/videos.yaml');
    r.watcher.fileChanged('/p/ref.png');
    r.watcher.fileChanged('/p/videos.yaml');
    expect(r.watcher.state).toBe('debouncing');
    await second;
    expect(r.requests).toHaveLength(2);
    expect([...(r.requests[1]?.changed ?? [])].sort()).toEqual(['/p/ref.png', '/p/videos.yaml']);
    r.release();
    await r.reach('watching');

    r.watcher.abort();
    await finished;
    expect(r.watcher.state).toBe('aborted');
    expect(r.requests).toHaveLength(2);
  });

  it('a change during a cycle supersedes it once and queues exactly one follow-up', async () => {
    const r = rig();
    const finished = r.watcher.start();
    const first = r.requests[0];
    expect(first?.superseded.aborted).toBe(false);
    r.watcher.fileChanged('/p/videos.yaml');
    r.watcher.fileChanged('/p/videos.yaml');
    expect(r.watcher.state).toBe('queued');
    expect(first?.superseded.aborted).toBe(true);
    expect(first?.quit.aborted).toBe(false);

    const second = r.nextCycle();
    r.release();
    await second;
    expect(r.requests).toHaveLength(2);
    expect(r.requests[1]?.superseded.aborted).toBe(false);
    r.release();
    await r.reach('watching');
    r.watcher.abort();
    await finished;
    expect(r.transitions).toEqual([
      'initial->running',
      'running->queued',
      'queued->debouncing',
      'debouncing->running',
      'running->watching',
      'watching->aborted',
    ]);
  });

  it('retry requests are flagged on the next cycle only', async () => {
    const r = rig();
    const finished = r.watcher.start();
    r.release();
    await r.reach('watching');
    const second = r.nextCycle();
    r.watcher.retryFailed();
    await second;
    expect(r.requests[1]?.retryFailed).toBe(true);
    expect(r.requests[1]?.changed).toEqual([]);
    r.release();
    await r.reach('watching');
    const third = r.nextCycle();
    r.watcher.fileChanged('/p/videos.yaml');
    await third;
    expect(r.requests[2]?.retryFailed).toBe(false);
    r.release();
    r.watcher.abort();
    await finished;
  });

  it('abort during a cycle signals quit and waits for the cycle to return', async () => {
    const r = rig();
    let settled = false;
    const finished = r.watcher.start().then(() => {
      settled = true;
    });
    r.watcher.abort();
    expect(r.requests[0]?.quit.aborted).toBe(true);
    await Promise.resolve();
    expect(settled).toBe(false);
    r.release();
    await finished;
    expect(settled).toBe(true);
    // Changes after abort do nothing.
    r.watcher.fileChanged('/p/videos.yaml');
    expect(r.watcher.state).toBe('aborted');
  });

  it('abort while debouncing cancels the pending cycle', async () => {
    const r = rig(10_000);
    const finished = r.watcher.start();
    r.release();
    await r.reach('watching');
    r.watcher.fileChanged('/p/videos.yaml');
    expect(r.watcher.state).toBe('debouncing');
    r.watcher.abort();
    await finished;
    expect(r.requests).toHaveLength(1);
  });

  it('a cycle that throws (a bug) ends the session with that error', async () => {
    const watcher = new Watcher({ debounceMs: 1, runCycle: () => Promise.reject(new Error('boom')) });
    await expect(watcher.start()).rejects.toThrow('boom');
    expect(watcher.state).toBe('aborted');
  });
});
