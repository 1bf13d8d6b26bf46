import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { CharacterId, JobId, JobRequest } from '../lock/lockfile.js';

/**
 * Which of a refused request's server-side inputs no longer exist: the
 * source job of a remix/edit/extend, and the characters. They vanish when a
 * job is deleted (`vidbuild prune`, the provider's retention), when the team
 * moves to another provider (the ids in videos.lock are the old one's), or
 * when the emulator's state is wiped. The lock still names them, so without
 * this every later run sends the same doomed request and fails the same way.
 *
 * Only free GETs are made; anything but a 404 counts as "still there" (the
 * refusal was about something else, or we cannot tell).
 */
export interface MissingInputs {
  readonly sourceJobId: JobId | undefined;
  readonly characterIds: readonly CharacterId[];
}

export async function missingInputsOf(client: OpenAI, request: JobRequest): Promise<MissingInputs> {
  const [sourceGone, characterGone] = await Promise.all([
    request.sourceJobId === undefined ? false : isGone(() => client.videos.retrieve(request.sourceJobId ?? '')),
    Promise.all((request.characterIds ?? []).map((id) => isGone(() => client.videos.getCharacter(id)))),
  ]);
  return {
    sourceJobId: sourceGone ? request.sourceJobId : undefined,
    characterIds: (request.characterIds ?? []).filter((_, i) => characterGone[i] === true),
  };
}

async function isGone(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (e: unknown) {
    return e instanceof APIError && e.status === 404;
  }
}
