import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { characterVideoProblem } from '../../src/core/character-video.js';
import { classifyVideo, type VideoKind } from '../../src/core/mp4-header.js';
import { shippedCapabilities } from '../../src/manifest/capabilities.js';
import { probeMp4 } from '../../src/emulator/mp4-probe.js';
import { probeVideoFile } from '../../src/manifest/video-file.js';
import { ffmpegClip } from '../fixtures/images.js';

/** An ISO-BMFF box: 32-bit size, type, payload (or a 64-bit size when `large`). */
function box(type: string, payload: Buffer, large = false): Buffer {
  const head = Buffer.alloc(large ? 16 : 8);
  if (large) {
    head.writeUInt32BE(1, 0);
    head.writeBigUInt64BE(BigInt(payload.length + 16), 8);
  } else {
    head.writeUInt32BE(payload.length + 8, 0);
  }
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

/** mvhd version 0: flags, created, modified, timescale, duration (then fields nobody reads). */
function mvhd(timescale: number, duration: number): Buffer {
  const b = Buffer.alloc(100);
  b.writeUInt32BE(timescale, 12);
  b.writeUInt32BE(duration, 16);
  return box('mvhd', b);
}

/** mvhd version 1: 64-bit times and duration. */
function mvhd1(timescale: number, duration: bigint): Buffer {
  const b = Buffer.alloc(112);
  b[0] = 1;
  b.writeUInt32BE(timescale, 20);
  b.writeBigUInt64BE(duration, 24);
  return box('mvhd', b);
}

/** mdia/hdlr naming the track's handler ('vide', 'soun'). */
const mdia = (handler: string): Buffer => box('mdia', box('hdlr', Buffer.concat([Buffer.alloc(8), Buffer.from(handler, 'latin1'), Buffer.alloc(13)])));

/** tkhd version 0 (84 bytes of payload): width and height, 16.16, are its last 8 bytes. */
function tkhd(width: number, height: number): Buffer {
  const b = Buffer.alloc(84);
  b.writeUInt32BE(width * 65536, 76);
  b.writeUInt32BE(height * 65536, 80);
  return box('tkhd', b);
}

const ftyp = (brand = 'isom'): Buffer => box('ftyp', Buffer.from(`${brand}\0\0\0\0isommp41`, 'latin1'));

function mp4(opts: { seconds?: number; width?: number; height?: number; moovLast?: boolean; audioFirst?: boolean; largeMdat?: boolean; brand?: string } = {}): Buffer {
  const tracks = [
    ...(opts.audioFirst === true ? [box('trak', tkhd(0, 0))] : []),
    box('trak', tkhd(opts.width ?? 1280, opts.height ?? 720)),
  ];
  const moov = box('moov', Buffer.concat([mvhd(1000, (opts.seconds ?? 4) * 1000), ...tracks]));
  const mdat = box('mdat', Buffer.alloc(4096, 7), opts.largeMdat === true);
  return Buffer.concat(opts.moovLast === true ? [ftyp(opts.brand), mdat, moov] : [ftyp(opts.brand), moov, mdat]);
}

function classify(b: Buffer): VideoKind {
  return classifyVideo((position, length) => b.subarray(position, position + length), b.length);
}

describe('classifyVideo', () => {
  it('reads size and duration wherever the index sits, past audio tracks and 64-bit boxes', () => {
    expect(classify(mp4())).toEqual({ kind: 'mp4', width: 1280, height: 720, seconds: 4 });
    expect(classify(mp4({ moovLast: true, largeMdat: true, seconds: 118, width: 720, height: 1280 }))).toEqual({ kind: 'mp4', width: 720, height: 1280, seconds: 118 });
    expect(classify(mp4({ audioFirst: true }))).toMatchObject({ kind: 'mp4', width: 1280, height: 720 });
  });

  it('names other files, and calls an MP4 without a readable index damaged (validate and the emulator alike)', () => {
    expect(classify(Buffer.from('not really an mp4\n'))).toEqual({ kind: 'other', what: undefined });
    expect(classify(Buffer.alloc(0))).toEqual({ kind: 'other', what: 'an empty file' });
    expect(classify(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40)]))).toEqual({ kind: 'other', what: 'a PNG image' });
    expect(classify(mp4({ brand: 'heic' }))).toEqual({ kind: 'other', what: 'a HEIC image' });
    const whole = mp4({ moovLast: true });
    expect(classify(whole.subarray(0, whole.length - 40))).toEqual({ kind: 'damaged' });
    expect(classify(Buffer.concat([ftyp(), box('moov', mvhd(1000, 4000))]))).toEqual({ kind: 'damaged' });
    expect(probeMp4(whole.subarray(0, whole.length - 40))).toBeNull();
    expect(probeMp4(mp4({ brand: 'heic' }))).toBeNull();
  });

  it('takes the track its handler calls video, reads 64-bit durations and a fragmented file\'s mehd', () => {
    const sized = (w: number, h: number, handler: string): Buffer => box('trak', Buffer.concat([tkhd(w, h), mdia(handler)]));
    // A subtitle track with a size before the video: not the picture.
    const moov = box('moov', Buffer.concat([mvhd1(90000, 90000n * 3n), sized(640, 64, 'text'), sized(1920, 1080, 'vide')]));
    expect(classify(Buffer.concat([ftyp(), moov]))).toEqual({ kind: 'mp4', width: 1920, height: 1080, seconds: 3 });
    const audioOnly = box('moov', Buffer.concat([mvhd(1000, 4000), box('trak', Buffer.concat([tkhd(0, 0), mdia('soun')]))]));
    expect(classify(Buffer.concat([ftyp('M4A '), audioOnly]))).toEqual({ kind: 'no-video' });
    const mehd = box('mehd', Buffer.from([0, 0, 0, 0, 0, 0, 0x1b, 0x58])); // 7000 units
    const fragmented = box('moov', Buffer.concat([mvhd(1000, 0), sized(720, 1280, 'vide'), box('mvex', mehd)]));
    expect(classify(Buffer.concat([ftyp('iso5'), fragmented]))).toEqual({ kind: 'mp4', width: 720, height: 1280, seconds: 7 });
    const unknownLength = box('moov', Buffer.concat([mvhd(1000, 0xffffffff), sized(720, 1280, 'vide')]));
    expect(classify(Buffer.concat([ftyp(), unknownLength]))).toEqual({ kind: 'mp4', width: 720, height: 1280, seconds: undefined });
  });

  it('reads only box headers: the media and the sample tables are never asked for', () => {
    const stbl = box('stbl', Buffer.alloc(1 << 20, 1));
    const trak = box('trak', Buffer.concat([tkhd(1280, 720), box('mdia', Buffer.concat([box('hdlr', Buffer.concat([Buffer.alloc(8), Buffer.from('vide'), Buffer.alloc(13)])), box('minf', stbl)]))]));
    const file = Buffer.concat([ftyp(), box('mdat', Buffer.alloc(4 << 20, 7)), box('moov', Buffer.concat([mvhd(1000, 4000), trak]))]);
    let bytesRead = 0;
    const kind = classifyVideo((position, length) => {
      bytesRead += length;
      return file.subarray(position, position + length);
    }, file.length);
    expect(kind).toEqual({ kind: 'mp4', width: 1280, height: 720, seconds: 4 });
    expect(bytesRead).toBeLessThan(512);
  });

  it('gives up on a hostile index after a bounded number of box headers', () => {
    const tiny = box('free', Buffer.alloc(0));
    const manyBoxes = box('moov', Buffer.concat([mvhd(1000, 4000), ...Array.from({ length: 100_000 }, () => tiny), box('trak', tkhd(1280, 720))]));
    const manyTracks = box('moov', Buffer.concat([mvhd(1000, 4000), ...Array.from({ length: 3000 }, () => box('trak', Buffer.concat(Array.from({ length: 20 }, () => tiny))))]));
    for (const moov of [manyBoxes, manyTracks]) {
      const file = Buffer.concat([ftyp(), moov]);
      let reads = 0;
      const kind = classifyVideo((position, length) => {
        reads++;
        return file.subarray(position, position + length);
      }, file.length);
      expect(kind).toEqual({ kind: 'damaged' });
      expect(reads).toBeLessThan(20_000);
    }
  });

  it('probes a file on disk', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-video-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'a.mp4'), mp4({ moovLast: true, seconds: 8 }));
    expect(probeVideoFile(path.join(dir, 'a.mp4'))).toEqual({ kind: 'mp4', width: 1280, height: 720, seconds: 8 });
  });

  it('reads what ffmpeg writes, as the emulator reads the same upload', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-video-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'clip.mp4');
    ffmpegClip(file, 720, 1280, 3);
    const probed = probeVideoFile(file);
    expect(probed).toMatchObject({ kind: 'mp4', width: 720, height: 1280 });
    expect(probed.kind === 'mp4' ? probed.seconds : 0).toBeCloseTo(3, 1);
    expect(probeMp4(await readFile(file))).toEqual({ width: 720, height: 1280, seconds: probed.kind === 'mp4' ? probed.seconds : -1 });
  });
});

describe('characterVideoProblem (data/capabilities.json characters.video)', () => {
  const limits = shippedCapabilities().characterVideo;
  it('takes 2-4 s at 16:9 or 9:16, 720p to 1080p, with the rounding encoders leave', () => {
    for (const ok of [
      { width: 1280, height: 720, seconds: 3 },
      { width: 720, height: 1280, seconds: 2 },
      { width: 1920, height: 1080, seconds: 4.03 },
      { width: 1366, height: 768, seconds: 1.95 },
    ]) {
      expect(characterVideoProblem(ok, limits), JSON.stringify(ok)).toBeUndefined();
    }
  });

  it('says what the file is and what a character video must be', () => {
    const must = 'a character video must be 16:9 or 9:16, 720p to 1080p, 2 to 4 s long';
    expect(characterVideoProblem({ width: 1280, height: 720, seconds: 6 }, limits)).toBe(`is 1280x720, 6 s long; ${must}`);
    expect(characterVideoProblem({ width: 1280, height: 720, seconds: 1.5 }, limits)).toBe(`is 1280x720, 1.5 s long; ${must}`);
    expect(characterVideoProblem({ width: 1080, height: 1080, seconds: 3 }, limits)).toBe(`is 1080x1080, 3 s long; ${must}`);
    expect(characterVideoProblem({ width: 640, height: 360, seconds: 3 }, limits)).toBe(`is 640x360, 3 s long; ${must}`);
    expect(characterVideoProblem({ width: 3840, height: 2160, seconds: 3 }, limits)).toBe(`is 3840x2160, 3 s long; ${must}`);
    expect(characterVideoProblem({ width: 1280, height: 720, seconds: undefined }, limits)).toBe(`is 1280x720 with no length in its index (a fragmented MP4?); ${must}`);
  });
});
