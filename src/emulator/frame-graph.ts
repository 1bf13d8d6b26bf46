/**
 * ffmpeg argument lists that draw a clip. Pure: the caller runs them in a
 * work directory holding `font.ttf` and the text files named here, so no path
 * ever needs filtergraph escaping. Everything visible derives from the spec's
 * seed, so equal inputs give equal frames and different inputs visibly differ.
 */

export interface Look {
  readonly background: string;
  readonly shape: string;
  /** Degrees per second the background hue turns (sign = direction). */
  readonly hueSpeed: number;
  readonly hueStart: number;
  readonly freqX: number;
  readonly freqY: number;
  readonly phase: number;
}

export function lookOf(seed: string): Look {
  const byte = (i: number): number => parseInt(seed.slice(i * 2, i * 2 + 2), 16) || 0;
  const hue = (byte(0) * 256 + byte(1)) % 360;
  return {
    background: hslHex(hue, 0.55, 0.32),
    shape: hslHex((hue + 150 + (byte(2) % 60)) % 360, 0.8, 0.6),
    hueSpeed: (byte(3) % 2 === 0 ? 1 : -1) * (10 + (byte(4) % 30)),
    hueStart: byte(5) % 60,
    freqX: 0.6 + byte(6) / 128,
    freqY: 0.4 + byte(7) / 160,
    phase: byte(8) / 40,
  };
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `0x${[f(0), f(8), f(4)].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** Wraps the first few words of a prompt into short lines for drawtext. */
export function captionOf(prompt: string, width: number, fontSize: number): string {
  const words = prompt.replace(/\[\[[^\]]*\]\]/g, '').split(/\s+/).filter((w) => w.length > 0).slice(0, 10);
  const perLine = Math.max(8, Math.floor((width - 2 * fontSize) / (fontSize * 0.6)));
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const word = w.length > perLine ? `${w.slice(0, perLine - 1)}…` : w;
    if (line.length > 0 && line.length + 1 + word.length > perLine) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
    if (lines.length === 3) break;
  }
  if (line.length > 0 && lines.length < 3) lines.push(line);
  return lines.join('\n') || '(empty prompt)';
}

const encode = (fps: number, seconds: number, out: string): string[] => [
  '-t', String(seconds),
  '-r', String(fps),
  '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26',
  '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out,
];

export interface TextFiles {
  /** File name (in the work dir) holding the caption. */
  readonly caption: string;
  /** File name holding the label line. */
  readonly label: string;
}

const fontSizeOf = (w: number, h: number): number => Math.max(16, Math.round(Math.min(w, h) / 16));

/** `top` for fresh footage; `middle` for text drawn over a source's frames (which carry their own caption). */
type Placement = 'top' | 'middle';

function textFilters(w: number, h: number, files: TextFiles, placement: Placement = 'top'): string {
  const fs = fontSizeOf(w, h);
  const small = Math.max(12, Math.round(fs * 0.6));
  const captionY = placement === 'top' ? `${fs * 2}` : 'h/2';
  const labelY = placement === 'top' ? `h-${small * 4}` : `h-${small * 6}`;
  const box = placement === 'top' ? '' : `:box=1:boxcolor=black@0.55:boxborderw=${Math.round(fs / 3)}`;
  return [
    `drawtext=fontfile=font.ttf:textfile=${files.caption}:expansion=none:fontsize=${fs}:fontcolor=white:borderw=2:bordercolor=black@0.6:line_spacing=${Math.round(fs / 4)}:x=${fs}:y=${captionY}${box}`,
    `drawtext=fontfile=font.ttf:textfile=${files.label}:expansion=none:fontsize=${small}:fontcolor=white:borderw=1:bordercolor=black@0.6:x=${fs}:y=${labelY}${box}`,
    `drawtext=fontfile=font.ttf:text='%{pts\\:hms}':fontsize=${small}:fontcolor=white:borderw=1:bordercolor=black@0.6:x=w-tw-${fs}:y=h-${small * 4}`,
  ].join(',');
}

export interface GenerateArgs {
  readonly width: number;
  readonly height: number;
  readonly seconds: number;
  readonly fps: number;
  readonly seed: string;
  readonly text: TextFiles;
  /** Absolute path of a reference image shown as the first frames, or null. */
  readonly reference: string | null;
  readonly out: string;
}

export function generateArgs(a: GenerateArgs): string[] {
  const look = lookOf(a.seed);
  const { width: w, height: h, seconds: d, fps } = a;
  const shape = Math.round(Math.min(w, h) / 4);
  const bar = Math.max(8, Math.round(h / 80));
  const inputs = [
    '-f', 'lavfi', '-i', `color=c=${look.background}:s=${w}x${h}:r=${fps}:d=${d}`,
    '-f', 'lavfi', '-i', `color=c=${look.shape}:s=${shape}x${shape}:r=${fps}:d=${d}`,
    '-f', 'lavfi', '-i', `color=c=white:s=${w}x${bar}:r=${fps}:d=${d}`,
  ];
  const graph = [
    `[0:v]hue=h='${look.hueStart}+${look.hueSpeed}*t':s=1.2[bg]`,
    `[bg][1:v]overlay=x='(W-w)*(0.5+0.45*sin(t*${look.freqX.toFixed(3)}+${look.phase.toFixed(3)}))':y='(H-h)*(0.5+0.45*cos(t*${look.freqY.toFixed(3)}))'[s]`,
    // The bar grows with time, so a still frame shows where in the clip it is.
    `[s][2:v]overlay=x='-W+W*t/${d}':y=H-h[p]`,
    `[p]${textFilters(w, h, a.text)}${a.reference === null ? '[v]' : '[t]'}`,
  ];
  if (a.reference !== null) {
    // One still frame; overlay repeats it (eof_action=repeat) while enabled.
    // The reference is the first frame (the real API conditions on it the same way).
    inputs.push('-i', a.reference);
    graph.push(`[3:v]scale=${w}:${h},setsar=1[r]`, `[t][r]overlay=enable='lt(t,${Math.min(0.5, d / 4)})'[v]`);
  }
  return [...inputs, '-filter_complex', graph.join(';'), '-map', '[v]', ...encode(fps, d, a.out)];
}

/** Fits any source video to w×h at the output rate (letterboxed, never stretched). */
const fit = (w: number, h: number, fps: number): string =>
  `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${fps},format=yuv420p`;

export interface EditArgs {
  readonly width: number;
  readonly height: number;
  readonly seconds: number;
  readonly fps: number;
  readonly seed: string;
  readonly text: TextFiles;
  readonly source: string;
  readonly out: string;
}

export function editArgs(a: EditArgs): string[] {
  const look = lookOf(a.seed);
  const shift = 90 + (Math.abs(look.hueSpeed) * 5) % 180;
  return [
    // Loop the source so an upload shorter than the clip still fills it.
    '-stream_loop', '-1', '-i', a.source,
    '-filter_complex',
    `[0:v]${fit(a.width, a.height, a.fps)},hue=h=${shift}:s=1.4,${textFilters(a.width, a.height, a.text, 'middle')}[v]`,
    '-map', '[v]',
    ...encode(a.fps, a.seconds, a.out),
  ];
}

export interface ConcatArgs {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly head: string;
  readonly headSeconds: number;
  readonly tail: string;
  readonly tailSeconds: number;
  readonly out: string;
}

/** The source's frames, then the new footage; re-encoded so size and rate are exact. */
export function concatArgs(a: ConcatArgs): string[] {
  const f = fit(a.width, a.height, a.fps);
  return [
    '-stream_loop', '-1', '-i', a.head,
    '-i', a.tail,
    '-filter_complex',
    `[0:v]${f},trim=duration=${a.headSeconds},setpts=PTS-STARTPTS[a];` +
      `[1:v]${f},trim=duration=${a.tailSeconds},setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1:a=0[v]`,
    '-map', '[v]',
    ...encode(a.fps, a.headSeconds + a.tailSeconds, a.out),
  ];
}

export function thumbnailArgs(video: string, seconds: number, out: string): string[] {
  return ['-ss', String(seconds / 2), '-i', video, '-frames:v', '1', '-c:v', 'libwebp', '-quality', '75', '-f', 'webp', out];
}

/** A 4-column JPEG grid of frames spread evenly over the clip. */
export function spritesheetArgs(video: string, width: number, height: number, frames: number, out: string): string[] {
  const tiles = Math.min(12, Math.max(4, Math.floor(frames / 4) * 4 >= 12 ? 12 : Math.floor(frames / 4) * 4));
  const rows = tiles / 4;
  const step = Math.max(1, Math.floor(frames / tiles));
  const tileW = width >= height ? 320 : 180;
  const tileH = Math.round((tileW * height) / width / 2) * 2;
  return [
    '-i', video,
    '-vf', `select='not(mod(n,${step}))',scale=${tileW}:${tileH},tile=4x${rows}`,
    '-frames:v', '1', '-vsync', 'vfr', '-q:v', '4', '-f', 'mjpeg', out,
  ];
}
