import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultInjector, parseFaults } from '../../src/emulator/faults.js';
import { captionOf, lookOf } from '../../src/emulator/frame-graph.js';
import { readImageHeader } from '../../src/emulator/image-header.js';
import { phaseAt, scheduleNext, type Schedule } from '../../src/emulator/lifecycle.js';
import { probeMp4 } from '../../src/emulator/mp4-probe.js';
import { parseBody } from '../../src/emulator/request-body.js';
import { renderKey, seedOf, type RenderSpec } from '../../src/emulator/render-spec.js';
import { solidPng } from './media.js';

describe('scheduleNext', () => {
  it('never runs more than maxRunning jobs at once and starts jobs in creation order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5000), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 4 }), (gaps, maxRunning) => {
        const jobs: Schedule[] = [];
        let t = 0;
        for (const g of gaps) {
          t += g;
          jobs.push(scheduleNext(jobs, t, 3000, maxRunning));
        }
        for (let i = 1; i < jobs.length; i++) expect(jobs[i]?.startAtMs).toBeGreaterThanOrEqual(jobs[i - 1]?.startAtMs ?? 0);
        for (const j of jobs) {
          const running = jobs.filter((o) => o.startAtMs <= j.startAtMs && j.startAtMs < o.finishAtMs).length;
          expect(running).toBeLessThanOrEqual(maxRunning);
          expect(j.startAtMs).toBeGreaterThanOrEqual(j.createdAtMs);
        }
      }),
    );
  });

  it('phaseAt: queued, then rising progress, then ended', () => {
    const s = { createdAtMs: 0, startAtMs: 100, finishAtMs: 200 };
    expect(phaseAt(s, 50)).toEqual({ kind: 'queued' });
    expect(phaseAt(s, 150)).toEqual({ kind: 'in_progress', progress: 50 });
    expect(phaseAt(s, 200)).toEqual({ kind: 'ended' });
  });
});

describe('faults', () => {
  it('the same seed gives the same fault sequence', () => {
    const cfg = parseFaults('{"seed":7,"429":0.2,"5xx":0.05,"reset":0.03,"truncate":0.03,"slow":0.05}');
    expect(cfg.ok).toBe(true);
    if (!cfg.ok) return;
    const seq = (): string[] => {
      const f = new FaultInjector(cfg.value);
      return Array.from({ length: 200 }, () => JSON.stringify(f.next(true)));
    };
    expect(seq()).toEqual(seq());
    expect(new Set(seq()).size).toBeGreaterThan(3);
  });

  it.each([
    ['not json', 'JSON'],
    ['{"429":2}', 'probability'],
    ['{"teapot":0.1}', 'unknown key'],
    ['{"429":0.6,"5xx":0.6}', 'add up'],
  ])('rejects %s', (input, message) => {
    const r = parseFaults(input);
    expect(r.ok ? '' : r.error).toContain(message);
  });
});

describe('media headers', () => {
  it('reads PNG dimensions', () => {
    expect(readImageHeader(solidPng(12, 34))).toEqual({ type: 'image/png', width: 12, height: 34 });
    expect(readImageHeader(Buffer.from('plain text'))).toBeNull();
  });

  it('rejects non-MP4 bytes', () => {
    expect(probeMp4(Buffer.from('definitely not a video'))).toBeNull();
  });
});

describe('request bodies', () => {
  it('multipart nested keys become objects and arrays', async () => {
    const form = new FormData();
    form.append('prompt', 'p');
    form.append('video[id]', 'video_1');
    form.append('characters[][id]', 'char_a');
    form.append('characters[][id]', 'char_b');
    form.append('input_reference', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }), 'r.png');
    const req = new Request('http://x/', { method: 'POST', body: form });
    const body = Buffer.from(await req.arrayBuffer());
    const parsed = await parseBody(req.headers.get('content-type') ?? undefined, body);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({ prompt: 'p', video: { id: 'video_1' }, characters: [{ id: 'char_a' }, { id: 'char_b' }] });
    expect(parsed.value['input_reference']).toMatchObject({ kind: 'file', name: 'r.png', type: 'image/png' });
  });

  it('JSON must be an object', async () => {
    const r = await parseBody('application/json', Buffer.from('[1]'));
    expect(r.ok ? null : r.error.status).toBe(400);
  });
});

describe('render identity', () => {
  const spec = (prompt: string): RenderSpec => ({
    kind: 'generate', width: 720, height: 1280, seconds: 4, prompt, seed: seedOf(prompt), label: 'generate', reference: null,
  });

  it('equal inputs share a render key; different prompts or fps do not', () => {
    expect(renderKey(spec('a'), 24)).toBe(renderKey(spec('a'), 24));
    expect(renderKey(spec('a'), 24)).not.toBe(renderKey(spec('b'), 24));
    expect(renderKey(spec('a'), 24)).not.toBe(renderKey(spec('a'), 8));
  });

  it('looks differ between seeds and captions keep a few words', () => {
    expect(lookOf(seedOf('a')).background).not.toBe(lookOf(seedOf('b')).background);
    expect(captionOf('one two three [[fail:x]]', 720, 45)).toBe('one two three');
  });
});
