import { createHash } from 'node:crypto';
import type { Target } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, Sha256 } from '../lock/lockfile.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { isFingerprint } from '../lock/lock-names.js';

/**
 * A target's fingerprint: sha256 of a canonical JSON of everything that
 * determines the generated content (DESIGN §4): kind, prompt, model, size,
 * seconds as requested, the content hash of every referenced file, the
 * source's identity and the characters' identities. Output paths, the asset
 * list, comments, key order and formatting are deliberately left out: changing
 * them must never cost money.
 *
 * Bump FINGERPRINT_VERSION when the hashed shape changes; every target then
 * shows as "replace" once, which is the honest outcome.
 */
export const FINGERPRINT_VERSION = 1;

/**
 * Who the source of a derived target is. Once the source has a job, its job id
 * (regenerating the source invalidates its dependents); before that, the
 * source's own fingerprint, which makes the dependent's fingerprint
 * provisional.
 */
export type SourceIdentity = { readonly jobId: JobId } | { readonly fingerprint: Fingerprint };

/** A character is its `char_…` id once created, its video file's hash before. */
export type CharacterIdentity = { readonly id: CharacterId } | { readonly fileSha256: Sha256 };

export interface FingerprintInputs {
  /** sha256 of each file in `referencedFilesOf(target)`, same order. */
  readonly files: readonly Sha256[];
  /** Required when the target derives from another target. */
  readonly source?: SourceIdentity | undefined;
  /** One per `target.characters`, same order. */
  readonly characters: readonly CharacterIdentity[];
}

/** Seconds as sent to the API: for an extension, the footage it adds. */
export function requestedSeconds(target: Target): number {
  return target.kind === 'extend' ? target.addSeconds : target.seconds;
}

export function fingerprintTarget(target: Target, inputs: FingerprintInputs): Fingerprint {
  const source = inputs.source;
  const doc: JsonValue = {
    v: FINGERPRINT_VERSION,
    kind: target.kind,
    prompt: target.prompt,
    model: target.model,
    size: target.size,
    seconds: requestedSeconds(target),
    files: [...inputs.files],
    source: source === undefined ? undefined : 'jobId' in source ? { jobId: source.jobId } : { fingerprint: source.fingerprint },
    characters: inputs.characters.map((c) => ('id' in c ? { id: c.id } : { fileSha256: c.fileSha256 })),
  };
  return toFingerprint(createHash('sha256').update(canonicalJson(doc)).digest('hex'));
}

function toFingerprint(hex: string): Fingerprint {
  const fp = `sha256:${hex}`;
  if (!isFingerprint(fp)) throw new Error(`bad digest ${hex}`);
  return fp;
}

/** The 64-hex part of a fingerprint (used for cache index file names). */
export function fingerprintHex(fp: Fingerprint): string {
  return fp.slice('sha256:'.length);
}
