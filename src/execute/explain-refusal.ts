import path from 'node:path';
import { sourceTargetOf } from '../manifest/manifest.js';
import type { JobRequest } from '../lock/lockfile.js';
import type { TargetStep } from '../plan/plan.js';
import { missingInputsOf, type MissingInputs } from './missing-inputs.js';
import type { RunContext } from './run-context.js';

/**
 * A refusal because a locked id no longer exists server-side would repeat
 * on every run. Say which one and how to get out: a source job that is
 * gone needs its target generated again (a paid choice, so the user makes
 * it with --replace); a character that is gone leaves videos.lock, so the
 * next plan creates it again and shows what that costs.
 */
export async function explainRefusal(ctx: RunContext, step: TargetStep, request: JobRequest, f: { readonly status: number; readonly code: string; readonly message: string }): Promise<string> {
  if (f.status !== 400 && f.status !== 404 && f.status !== 422) return f.message;
  if (request.sourceJobId === undefined && (request.characterIds ?? []).length === 0) return f.message;
  let missing: MissingInputs;
  try {
    missing = await missingInputsOf(ctx.o.client, request);
  } catch {
    return f.message;
  }
  const parts = [f.message.replace(/\.$/, '')];
  const where = ctx.o.client.baseURL;
  const sourceName = sourceTargetOf(step.target);
  if (missing.sourceJobId !== undefined && sourceName !== undefined) {
    parts.push(
      `source ${sourceName}'s job ${missing.sourceJobId} no longer exists at ${where} (deleted, or made with another provider); run \`vidbuild apply --replace ${sourceName}\` to generate it again`,
    );
  }
  for (const id of missing.characterIds) {
    // Dropping a character re-creates it and replaces every video that uses
    // it: only when the refusal itself is about characters, not merely
    // because a provider without GET /videos/characters/{id} answers 404.
    if (!f.message.includes(id) && !/character/i.test(`${f.code} ${f.message}`)) continue;
    const name = step.target.characters.find((n) => {
      const job = ctx.writer.lock.characters[n]?.job;
      return job?.state === 'created' && job.characterId === id;
    });
    if (name === undefined) continue;
    await ctx.writer.update((lock) => {
      const job = lock.characters[name]?.job;
      if (job?.state !== 'created' || job.characterId !== id) return lock;
      const characters = { ...lock.characters };
      delete characters[name];
      return { ...lock, characters };
    });
    parts.push(`character ${name} (${id}) no longer exists at ${where}; it was removed from ${path.basename(ctx.o.lockPath)}, so the next run creates it again`);
  }
  return parts.join('; ');
}
