import { isPaidAction, type Plan } from '../plan/plan.js';
import type { ObjectStore, RemoteError } from '../remote/object-store.js';

/**
 * The team's remote as one run sees it, decided once before anything is
 * paid:
 *
 * - `none`: no `remote:` (or `--remote off`), or the plan has nothing the
 *   remote could serve or keep, so it was not asked;
 * - `ready`: the probe answered; planning looked there and the run pushes to it;
 * - `down`: configured but unusable (unreachable, credentials, no bucket…):
 *   the run degrades to the local cache, and must not pay for a job the
 *   remote might have held (see `remoteRefusal`).
 */
export type RunRemote =
  | { readonly state: 'none' }
  | { readonly state: 'ready'; readonly store: ObjectStore }
  | { readonly state: 'down'; readonly store: ObjectStore; readonly error: RemoteError };

export const NO_REMOTE: RunRemote = { state: 'none' };

/**
 * Whether the plan could use the remote: a step that would pay (the remote
 * may hold its inputs) or that downloads or restores (its assets are pushed,
 * or come from there). An up-to-date plan never waits on the network.
 */
export function planCouldUseRemote(plan: Plan): boolean {
  return plan.steps.some((s) => s.action !== 'orphan' && s.action !== 'unchanged' && s.action !== 'failed');
}

/** Probes the store once (a one-key listing) when the plan could use it. */
export async function probeRemoteFor(plan: Plan, store: ObjectStore | undefined): Promise<RunRemote> {
  if (store === undefined || !planCouldUseRemote(plan)) return NO_REMOTE;
  const probed = await store.probe();
  return probed.ok ? { state: 'ready', store } : { state: 'down', store, error: probed.error };
}

/** The store the executor may use (restores, pushes), if any. */
export function usableStore(remote: RunRemote): ObjectStore | undefined {
  return remote.state === 'ready' ? remote.store : undefined;
}

/**
 * A remote that could not be checked while the plan pays: refuse, because
 * a teammate's run may already have paid for these exact inputs. One line,
 * naming the way out. Frozen runs never pay, so they only warn and restore
 * what the local cache has.
 */
export function remoteRefusal(remote: RunRemote, plan: Plan, frozen: boolean): { readonly code: string; readonly message: string } | undefined {
  if (remote.state !== 'down' || frozen) return undefined;
  const paid = plan.steps.filter((s) => s.action !== 'orphan' && isPaidAction(s.action) && !s.provisional);
  if (paid.length === 0) return undefined;
  const what = paid.length === 1 ? `${paid[0]?.name ?? 'a target'} needs a new job` : `${paid.length} targets need new jobs`;
  return {
    code: 'remote-unavailable',
    message: `${what} and the remote cache could not be checked for them (${remote.error.message}); nothing was paid: fix the remote, or pass --remote off to generate anyway`,
  };
}

/** The warning line for a remote that is configured but down (undefined otherwise). */
export function remoteWarning(remote: RunRemote): string | undefined {
  return remote.state === 'down' ? `warning: ${remote.error.message}; using the local cache only` : undefined;
}
