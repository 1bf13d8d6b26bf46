import { createHash } from 'node:crypto';
import { remoteReferenceOf, type RemoteReference, type Target } from '../manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, Sha256 } from '../lock/lockfile.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { isFingerprint } from '../lock/lock-names.js';

/**
 * A target's fingerprint: sha256 of a canonical JSON of everything that
 * determines the generated content (DESIGN §4): kind, prompt, model, size,
 * seconds as requested, the content hash of every referenced file, the
 * source's identity and the characters' identities. An `input_reference`
 * given as a URL or a file id is never read, so its identity is what the
 * manifest says: the URL (and the `sha256` pinned with it, if any) or the
 * id; a URL whose content changes behind it is not noticed unless pinned.
 * The `reference` key is absent otherwise, so existing fingerprints hold. Output paths, the asset
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
  /** One per `target.characters`, same order (the fingerprint does not depend on the order). */
  readonly characters: readonly CharacterIdentity[];
}

/** Seconds as sent to the API: for an extension, the footage it adds. */
export function requestedSeconds(target: Target): number {
  return target.kind === 'extend' ? target.addSeconds : target.seconds;
}

export function fingerprintTarget(target: Target, inputs: FingerprintInputs): Fingerprint {
  return toFingerprint(createHash('sha256').update(fingerprintDocument(target, inputs)).digest('hex'));
}

/** The document that is hashed, as a value (what `fingerprintDocument` serializes). */
export function fingerprintValue(target: Target, inputs: FingerprintInputs): JsonValue {
  const source = inputs.source;
  return {
    v: FINGERPRINT_VERSION,
    kind: target.kind,
    prompt: target.prompt,
    reference: referenceValue(remoteReferenceOf(target)),
    model: target.model,
    size: target.size,
    seconds: requestedSeconds(target),
    files: [...inputs.files],
    source: source === undefined ? undefined : 'jobId' in source ? { jobId: source.jobId } : { fingerprint: source.fingerprint },
    characters: characterItems(inputs.characters).map((item) => JSON.parse(item) as JsonValue),
  };
}

function referenceValue(ref: RemoteReference | undefined): JsonValue | undefined {
  if (ref === undefined) return undefined;
  if ('file_id' in ref) return { file_id: ref.file_id };
  return ref.sha256 === undefined ? { image_url: ref.image_url } : { image_url: ref.image_url, sha256: ref.sha256 };
}

/** `"reference":{…},` in sorted-key order, or nothing. */
function referenceMember(ref: RemoteReference | undefined): string {
  if (ref === undefined) return '';
  const q = JSON.stringify;
  if ('file_id' in ref) return `"reference":{"file_id":${q(ref.file_id)}},`;
  const pin = ref.sha256 === undefined ? '' : `,"sha256":${q(ref.sha256)}`;
  return `"reference":{"image_url":${q(ref.image_url)}${pin}},`;
}

/**
 * Each character as its canonical JSON, sorted: `characters` is a set (the API
 * takes the ids unordered and the prompt names them), so reordering the list
 * in the manifest must not replace the video.
 */
function characterItems(characters: readonly CharacterIdentity[]): string[] {
  const q = JSON.stringify;
  return characters.map((c) => ('id' in c ? `{"id":${q(c.id)}}` : `{"fileSha256":${q(c.fileSha256)}}`)).sort();
}

/**
 * `canonicalJson(fingerprintValue(...))`, written out with its keys already in
 * sorted order: planning hashes every target on every plan, and this avoids
 * sorting and allocating for each (a test pins the equivalence).
 */
export function fingerprintDocument(target: Target, inputs: FingerprintInputs): string {
  const q = JSON.stringify;
  const chars = inputs.characters.length === 0 ? '' : characterItems(inputs.characters).join(',');
  let files = '';
  for (const f of inputs.files) files += `${files === '' ? '' : ','}${q(f)}`;
  const source = inputs.source;
  const src = source === undefined ? '' : `"source":${'jobId' in source ? `{"jobId":${q(source.jobId)}}` : `{"fingerprint":${q(source.fingerprint)}}`},`;
  const reference = referenceMember(remoteReferenceOf(target));
  return `{"characters":[${chars}],"files":[${files}],"kind":${q(target.kind)},"model":${q(target.model)},"prompt":${q(target.prompt)},${reference}"seconds":${q(requestedSeconds(target))},"size":${q(target.size)},${src}"v":${FINGERPRINT_VERSION}}`;
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
