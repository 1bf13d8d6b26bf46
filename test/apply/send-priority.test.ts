import { describe, expect, it } from 'vitest';
import { SendPriority } from '../../src/execute/send-priority.js';

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('SendPriority', () => {
  it('lets a download start at once when no paid call is on its way', async () => {
    await new SendPriority().yieldToSends(60_000);
  });

  it('holds a download back until every paid call on its way has its answer', async () => {
    const sends = new SendPriority();
    const first = sends.begin();
    const second = sends.begin();
    let started = false;
    const download = sends.yieldToSends(60_000).then(() => (started = true));
    await turns(5);
    expect(started).toBe(false);
    first();
    first(); // ending twice counts once
    await turns(5);
    expect(started).toBe(false);
    second();
    await download;
    expect(started).toBe(true);
  });

  it('sees a call that begins in the same turn the download asks', async () => {
    const sends = new SendPriority();
    let started = false;
    const download = sends.yieldToSends(60_000).then(() => (started = true));
    const end = sends.begin();
    await turns(5);
    expect(started).toBe(false);
    end();
    await download;
  });

  it('never starves downloads: a call that never ends holds them back only for the bound', async () => {
    const sends = new SendPriority();
    sends.begin();
    await sends.yieldToSends(5);
    await sends.yieldToSends(5);
  });
});
