import { applyCommand, parseApplyOptions } from './apply.js';

/** `vidbuild pull` = `vidbuild apply --frozen`: restore outputs, never create a job. */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  return applyCommand(parseApplyOptions(opts, 'pull'));
}
