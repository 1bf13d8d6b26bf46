/**
 * Orders targets so every source precedes its dependents, and finds cycles.
 *
 * Each target derives from at most one other target, so the graph is a
 * forest of chains plus, when the manifest is wrong, cycles. Walking each
 * chain once is O(n) and iterative, so a 10,000-long chain cannot overflow
 * the stack.
 */
export interface DependencyOrder<N extends string> {
  /** Every name not on (or behind) a cycle, sources first, otherwise in manifest order. */
  readonly order: readonly N[];
  /** Each cycle once, as the chain of names from its first member in manifest order back to it. */
  readonly cycles: readonly (readonly N[])[];
  /** Names that depend on a cycle without being on it. */
  readonly blocked: ReadonlySet<N>;
}

/** `sourceOf(name)` must return a name that is in `names`, or undefined. */
export function dependencyOrder<N extends string>(
  names: readonly N[],
  sourceOf: (name: N) => N | undefined,
): DependencyOrder<N> {
  const state = new Map<N, 'done' | 'cycle' | 'blocked'>();
  const order: N[] = [];
  const cycles: N[][] = [];
  const blocked = new Set<N>();
  const position = new Map<N, number>();
  names.forEach((n, i) => position.set(n, i));

  for (const start of names) {
    if (state.has(start)) continue;
    // Walk up the chain until a finished name, a root, or a repeat (a cycle).
    const chain: N[] = [];
    const onChain = new Map<N, number>();
    let current: N | undefined = start;
    let outcome: 'root' | 'done' | 'cycle' | 'blocked' = 'root';
    while (current !== undefined) {
      const seen = state.get(current);
      if (seen === 'done') {
        outcome = 'done';
        break;
      }
      if (seen === 'cycle' || seen === 'blocked') {
        outcome = 'blocked';
        break;
      }
      const at = onChain.get(current);
      if (at !== undefined) {
        const members = chain.slice(at);
        for (const m of members) state.set(m, 'cycle');
        // Name the cycle starting from the member that comes first in the manifest.
        let first = 0;
        members.forEach((m, i) => {
          if ((position.get(m) ?? 0) < (position.get(members[first] ?? m) ?? 0)) first = i;
        });
        const rotated = [...members.slice(first), ...members.slice(0, first)];
        const head = rotated[0];
        if (head !== undefined) cycles.push([...rotated, head]);
        chain.length = at;
        outcome = 'blocked';
        break;
      }
      onChain.set(current, chain.length);
      chain.push(current);
      current = sourceOf(current);
    }
    if (outcome === 'blocked') {
      for (const n of chain) {
        state.set(n, 'blocked');
        blocked.add(n);
      }
      continue;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const n = chain[i];
      if (n === undefined) continue;
      state.set(n, 'done');
      order.push(n);
    }
  }
  return { order, cycles, blocked };
}
