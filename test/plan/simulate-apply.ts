import type { AssetVariant, Manifest, ProjectPath, TargetName } from '../../src/manifest/manifest.js';
import { referencedFilesOf, sourceTargetOf } from '../../src/manifest/manifest.js';
import type { CharacterId, Fingerprint, JobId, LockedCharacter, LockedTarget, Lockfile, Sha256 } from '../../src/lock/lockfile.js';
import { LOCKFILE_VERSION } from '../../src/lock/lockfile.js';
import { fingerprintTarget } from '../../src/plan/fingerprint.js';
import { buildJobRequest } from '../../src/plan/job-request.js';
import type { DiskFacts } from '../../src/plan/plan.js';
import { createHash } from 'node:crypto';

export const sha = (s: string | Uint8Array): Sha256 => createHash('sha256').update(s).digest('hex') as Sha256;
export const NOW = new Date('2025-10-07T12:00:00Z');

type Out = { bytes: number; sha256: Sha256 } | undefined;

/**
 * What a successful apply leaves behind: a lock whose every target is
 * completed with the fingerprint of the current manifest, and outputs on disk
 * matching it. Tests then perturb the lock, the facts or the manifest.
 */
export function simulateApply(
  manifest: Manifest,
  files: Record<string, string | Uint8Array> = {},
  /** Distinguishes the job ids of a second simulated apply of the same names. */
  jobSuffix = '',
): { lock: Lockfile; facts: DiskFacts; fileHashes: Map<ProjectPath, Sha256>; outputs: Map<ProjectPath, Out> } {
  const fileHashes = new Map<ProjectPath, Sha256>();
  for (const [p, content] of Object.entries(files)) fileHashes.set(p as ProjectPath, sha(content));
  const characters: Record<string, LockedCharacter> = {};
  const charIds = new Map<string, CharacterId>();
  for (const c of manifest.characters.values()) {
    const id = `char_${c.name}` as CharacterId;
    charIds.set(c.name, id);
    characters[c.name] = {
      fileSha256: fileHashes.get(c.video) ?? sha('missing'),
      video: c.video,
      job: { state: 'created', characterId: id, createdAt: '2025-10-07T10:00:00Z' },
    };
  }
  const videos: Record<string, LockedTarget> = {};
  const outputs = new Map<ProjectPath, Out>();
  const jobIds = new Map<TargetName, JobId>();
  for (const t of manifest.targets.values()) {
    const src = sourceTargetOf(t);
    const sourceJobId = src === undefined ? undefined : jobIds.get(src);
    const uploads = referencedFilesOf(t).map((p) => fileHashes.get(p) ?? sha('missing'));
    const ids = t.characters.map((c) => charIds.get(c) ?? ('char_missing' as CharacterId));
    const fingerprint: Fingerprint = fingerprintTarget(t, {
      files: uploads,
      source: sourceJobId === undefined ? undefined : { jobId: sourceJobId },
      characters: ids.map((id) => ({ id })),
    });
    const jobId = `video_${t.name}${jobSuffix}` as JobId;
    jobIds.set(t.name, jobId);
    const assets: Partial<Record<AssetVariant, { path: ProjectPath; bytes: number; sha256: Sha256 }>> = {};
    for (const v of t.assets) {
      const path = t.outputs[v];
      if (path === undefined) continue;
      const content = sha(`${t.name}/${v}/${jobId}`);
      assets[v] = { path, bytes: 100, sha256: content };
      outputs.set(path, { bytes: 100, sha256: content });
    }
    videos[t.name] = {
      kind: t.kind,
      fingerprint,
      model: t.model,
      size: t.size,
      seconds: t.seconds,
      ...(src === undefined ? {} : { source: src }),
      job: {
        state: 'job',
        jobId,
        status: 'completed',
        request: buildJobRequest(t, { sourceJobId, uploadSha256: uploads[0], characterIds: ids }),
        createdAt: '2025-10-07T10:00:00Z',
        completedAt: '2025-10-07T10:02:00Z',
        expiresAt: '2025-10-07T11:02:00Z',
      },
      assets,
      updatedAt: '2025-10-07T10:02:00Z',
    };
  }
  const lock: Lockfile = { lockfileVersion: LOCKFILE_VERSION, characters, videos };
  return { lock, facts: { fileHashes, outputs, cache: new Map(), now: NOW }, fileHashes, outputs };
}
