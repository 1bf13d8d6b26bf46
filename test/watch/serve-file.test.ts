import { describe, expect, it } from 'vitest';
import { parseRange, sniffContentType } from '../../src/watch/serve-file.js';

describe('parseRange', () => {
  it.each([
    { name: 'no header', header: undefined, want: undefined },
    { name: 'open-ended', header: 'bytes=0-', want: { start: 0, end: 99 } },
    { name: 'bounded', header: 'bytes=10-19', want: { start: 10, end: 19 } },
    { name: 'end past size is clamped', header: 'bytes=90-500', want: { start: 90, end: 99 } },
    { name: 'suffix', header: 'bytes=-10', want: { start: 90, end: 99 } },
    { name: 'suffix longer than file', header: 'bytes=-500', want: { start: 0, end: 99 } },
    { name: 'start past end of file', header: 'bytes=100-', want: 'unsatisfiable' },
    { name: 'inverted', header: 'bytes=20-10', want: 'unsatisfiable' },
    { name: 'multi-range is served whole', header: 'bytes=0-1,5-6', want: undefined },
    { name: 'other unit', header: 'items=0-1', want: undefined },
  ])('$name', ({ header, want }) => {
    expect(parseRange(header, 100)).toEqual(want);
  });
});

describe('sniffContentType', () => {
  const bytes = (...xs: Array<number | string>) =>
    Uint8Array.from(xs.flatMap((x) => (typeof x === 'string' ? [...x].map((c) => c.charCodeAt(0)) : [x])));
  it.each([
    { name: 'mp4', head: bytes(0, 0, 0, 0x20, 'ftypisom'), want: 'video/mp4' },
    { name: 'jpeg', head: bytes(0xff, 0xd8, 0xff, 0xe0), want: 'image/jpeg' },
    { name: 'png', head: bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a), want: 'image/png' },
    { name: 'webp', head: bytes('RIFF', 0, 0, 0, 0, 'WEBP'), want: 'image/webp' },
    { name: 'unknown', head: bytes('{"error":'), want: 'application/octet-stream' },
  ])('$name', ({ head, want }) => {
    expect(sniffContentType(head)).toBe(want);
  });
});
