import { remoteReferenceOf, type Target } from '../manifest/manifest.js';
import type { CharacterId, JobId, JobRequest, Sha256 } from '../lock/lockfile.js';
import { requestedSeconds } from './fingerprint.js';

/** The identities a request is built from, resolved by the planner or (once sources complete) the executor. */
export interface RequestIdentities {
  readonly sourceJobId?: JobId | undefined;
  /** sha256 of the uploaded file: `input_reference` for generate, the source file for edit/extend of a file. */
  readonly uploadSha256?: Sha256 | undefined;
  readonly characterIds?: readonly CharacterId[] | undefined;
}

/**
 * The `JobRequest` recorded in the lock for a target. The executor records
 * exactly this (before the paid call) and the planner compares a locked request
 * with the one it would build now to say *which* inputs changed, so both sides
 * must build it the same way: here.
 */
export function buildJobRequest(target: Target, ids: RequestIdentities): JobRequest {
  const remote = remoteReferenceOf(target);
  return {
    kind: target.kind,
    prompt: target.prompt,
    model: target.model,
    size: target.size,
    seconds: requestedSeconds(target),
    ...(ids.sourceJobId === undefined ? {} : { sourceJobId: ids.sourceJobId }),
    ...(ids.uploadSha256 === undefined ? {} : { uploadSha256: ids.uploadSha256 }),
    ...(remote === undefined ? {} : { inputReference: remote }),
    ...(ids.characterIds === undefined || ids.characterIds.length === 0 ? {} : { characterIds: [...ids.characterIds] }),
  };
}
