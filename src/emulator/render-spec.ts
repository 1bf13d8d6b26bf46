import { createHash } from 'node:crypto';

/**
 * What a clip looks like, as data. A job stores its spec when it is created,
 * so rendering needs nothing but the spec (a deleted source can still be
 * re-rendered) and the spec's hash addresses the render cache: two jobs with
 * the same inputs share one render.
 */

/** Bump when the drawing changes, so old cached renders are not reused. */
const RENDER_VERSION = 1;

/** Where the frames of a derived clip come from. */
export type RenderSource =
  | { readonly kind: 'render'; readonly spec: RenderSpec }
  /** An uploaded video, stored in the emulator's uploads folder under its sha256. */
  | { readonly kind: 'upload'; readonly sha256: string };

interface Frame {
  readonly width: number;
  readonly height: number;
  /** Total duration of the clip in seconds. */
  readonly seconds: number;
  readonly prompt: string;
  /** Hex digest of the logical inputs; colours and motion derive from it. */
  readonly seed: string;
}

export type RenderSpec =
  /** Fresh footage; `reference` (an uploaded image's sha256) becomes the first frames. */
  | (Frame & { readonly kind: 'generate'; readonly label: string; readonly reference: string | null })
  /** The source's frames with a derived look and the edit prompt drawn over them. */
  | (Frame & { readonly kind: 'edit'; readonly source: RenderSource })
  /** The source's frames followed by `tail` (fresh footage of the new seconds). */
  | (Frame & { readonly kind: 'extend'; readonly source: RenderSource; readonly sourceSeconds: number; readonly tail: RenderSpec });

export function seedOf(...parts: readonly unknown[]): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

export function renderKey(spec: RenderSpec, fps: number): string {
  return createHash('sha256').update(canonicalJson({ v: RENDER_VERSION, fps, spec })).digest('hex');
}

/** JSON with sorted keys, so a hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
