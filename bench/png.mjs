// Small valid PNGs for the benchmarks' reference images. validate reads an
// input_reference's header and refuses one whose size differs from the
// video's, so a bench project needs real images of the right size. The image
// data is compressed once per size; `tag` goes into a tEXt chunk so every
// file has its own content hash (and its own fingerprint) at no extra cost.
import { deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const bodies = new Map();

/** A solid grey WIDTHxHEIGHT PNG, made distinct by `tag`. */
export function benchPng(width, height, tag) {
  const key = `${width}x${height}`;
  let head = bodies.get(key);
  if (head === undefined) {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // greyscale
    const row = Buffer.alloc(1 + width, 128);
    row[0] = 0; // filter: none
    const idat = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
    head = { ihdr: chunk('IHDR', ihdr), idat: chunk('IDAT', idat) };
    bodies.set(key, head);
  }
  const text = chunk('tEXt', Buffer.from(`Comment\0${tag}`, 'latin1'));
  return Buffer.concat([SIGNATURE, head.ihdr, text, head.idat, chunk('IEND', Buffer.alloc(0))]);
}
