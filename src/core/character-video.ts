/**
 * What a character's video must be (DESIGN §3: a 2-4 s MP4, 16:9 or 9:16,
 * 720p-1080p; the numbers live in data/capabilities.json `characters.video`).
 * Shared by `validate` and the emulator so both refuse the same files.
 */
export interface CharacterVideoLimits {
  readonly minSeconds: number;
  readonly maxSeconds: number;
  /** The shorter side in pixels: 720 to 1080 is 720p to 1080p. */
  readonly minShortSide: number;
  readonly maxShortSide: number;
  /** Accepted shapes as [width, height] (16:9, 9:16). */
  readonly aspectRatios: readonly (readonly [number, number])[];
}

/** Encoders round a clip's length and shape a little (4 s at 30 fps can be 4.03 s; 1366x768 is "16:9"). */
const SECONDS_TOLERANCE = 0.1;
const RATIO_TOLERANCE = 0.02;

/**
 * What is wrong with a character video of this size and length, as a phrase
 * that follows its name ("is 640x480, 6 s long; a character video must be
 * 16:9 or 9:16, 720p to 1080p, 2 to 4 s long"); undefined when nothing is.
 * `seconds` undefined (the file does not say, as a fragmented MP4 may) is a
 * problem: the length cannot be checked, and the emulator reads it as 0.
 */
export function characterVideoProblem(
  video: { readonly width: number; readonly height: number; readonly seconds: number | undefined },
  limits: CharacterVideoLimits,
): string | undefined {
  const ratio = video.width / video.height;
  const shapeOk = limits.aspectRatios.some(([w, h]) => Math.abs(ratio - w / h) <= RATIO_TOLERANCE);
  const short = Math.min(video.width, video.height);
  const sizeOk = short >= limits.minShortSide && short <= limits.maxShortSide;
  const s = video.seconds;
  const lengthOk = s !== undefined && s >= limits.minSeconds - SECONDS_TOLERANCE && s <= limits.maxSeconds + SECONDS_TOLERANCE;
  if (shapeOk && sizeOk && lengthOk) return undefined;
  const facts = s === undefined ? `is ${video.width}x${video.height} with no length in its index (a fragmented MP4?)` : `is ${video.width}x${video.height}, ${formatSeconds(s)} long`;
  const shapes = limits.aspectRatios.map(([w, h]) => `${w}:${h}`).join(' or ');
  return `${facts}; a character video must be ${shapes}, ${limits.minShortSide}p to ${limits.maxShortSide}p, ${limits.minSeconds} to ${limits.maxSeconds} s long`;
}

function formatSeconds(s: number): string {
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * `characters.video` of data/capabilities.json as limits; throws on a broken
 * table (it ships with the package: a bad one is our bug, not the user's).
 */
export function parseCharacterVideoLimits(v: unknown): CharacterVideoLimits {
  const rec = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const ratios = rec?.['aspectRatios'];
  if (rec === undefined || !Array.isArray(ratios) || !ratios.every((r): r is string => typeof r === 'string')) {
    throw new Error('data/capabilities.json: characters.video needs its limits and aspectRatios');
  }
  const aspectRatios = ratios.map((r): readonly [number, number] => {
    const m = /^(\d+):(\d+)$/.exec(r);
    if (m === null) throw new Error(`data/capabilities.json: characters.video.aspectRatios: ${r} is not W:H`);
    return [Number(m[1]), Number(m[2])];
  });
  const num = (key: string): number => {
    const n = rec[key];
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`data/capabilities.json: characters.video.${key} must be a number`);
    return n;
  };
  return { minSeconds: num('minSeconds'), maxSeconds: num('maxSeconds'), minShortSide: num('minShortSide'), maxShortSide: num('maxShortSide'), aspectRatios };
}
