import type { SourceLocation } from '../core/diagnostic.js';

/*
 * Kept apart from yaml/yaml-locations.ts (which needs the `yaml` package) so the
 * validation layers can be loaded without the full YAML parser.
 */

/** A step into the manifest's data: a map key or a sequence index (as in a JSON Pointer). */
export type PathSegment = string | number;

/** Answers "where is this in the manifest?" for the validation layers (see YamlLocator). */
export interface ManifestLocator {
  readonly file: string;
  /** Location of a character offset in the source. */
  at(offset: number): SourceLocation;
  /** Where the key named by the last segment is (or the value, for a sequence item). */
  keyOf(path: readonly PathSegment[]): SourceLocation;
  /** Where the value at `path` is (falls back to its key, then to the nearest ancestor). */
  valueOf(path: readonly PathSegment[]): SourceLocation;
  /** Locations of every key of the map at `path`, in one pass. */
  keyLocations(path: readonly PathSegment[]): Map<string, SourceLocation>;
  /**
   * The number at `path` as it is written, when that reads differently from
   * the number (`99999999999999999999` is 1e20 as a double, `007` is 7), so a
   * message quotes what the user wrote; undefined otherwise.
   */
  writtenNumber(path: readonly PathSegment[]): string | undefined;
}

/** Decodes an ajv `instancePath` (JSON Pointer) into segments. */
export function pointerSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}
