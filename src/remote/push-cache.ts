import pLimit from 'p-limit';
import type { Fingerprint } from '../lock/lockfile.js';
import type { RemoteError } from './object-store.js';
import type { RemoteCache } from './remote-cache.js';

/** What `vidbuild push` did. */
export interface PushAllReport {
  /** Local entries looked at. */
  readonly entries: number;
  /** Entries whose index was written (new to the remote, or grown). */
  readonly pushedEntries: number;
  readonly objects: number;
  readonly bytes: number;
  /** Characters known locally, now in the remote (there already, or sent). */
  readonly characters: number;
  /** Entries (or characters) that could not be pushed; the first error says why. */
  readonly failed: number;
  readonly firstError?: RemoteError;
}

/** Entries pushed at once (each streams its objects, a couple of parts in flight). */
const CONCURRENCY = 4;

/**
 * Sends every given local entry the remote lacks (objects first, index
 * last, what is there skipped). Safe to interrupt and run again: it resumes
 * by skipping what arrived. Stops starting new entries once the remote is
 * unreachable or refuses us.
 */
export async function pushLocalEntries(remote: RemoteCache, fingerprints: Iterable<Fingerprint>): Promise<PushAllReport> {
  const limit = pLimit(CONCURRENCY);
  let entries = 0;
  let pushedEntries = 0;
  let objects = 0;
  let bytes = 0;
  let failed = 0;
  let firstError: RemoteError | undefined;
  const fatal = (): boolean => firstError !== undefined && firstError.code !== 'failed';
  await Promise.all(
    [...fingerprints].map((fp) =>
      limit(async () => {
        entries++;
        if (fatal()) {
          failed++;
          return;
        }
        const r = await remote.pushEntry(fp);
        if (!r.ok) {
          failed++;
          firstError ??= r.error;
          return;
        }
        objects += r.value.objects;
        bytes += r.value.bytes;
        if (r.value.index) pushedEntries++;
      }),
    ),
  );
  // Characters too: a clone that takes the same `char_…` id keeps the fingerprints of the videos made with it.
  let characters = 0;
  for (const c of await remote.local.listCharacters()) {
    if (fatal()) {
      failed++;
      continue;
    }
    const r = await remote.pushCharacter(c.name, c.fileSha256, c.character);
    if (r.ok) characters++;
    else {
      failed++;
      firstError ??= r.error;
    }
  }
  return { entries, pushedEntries, objects, bytes, characters, failed, ...(firstError === undefined ? {} : { firstError }) };
}
