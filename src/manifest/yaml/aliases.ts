import { isAlias, isMap, isScalar, isSeq, type Alias, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { err, ok, type Result } from '../../core/result.js';
import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../../core/diagnostic.js';
import { isMergeKey, type YamlLocator } from './yaml-locations.js';

/**
 * Nodes the data may have once every alias is expanded. A 10,000-target
 * manifest that merges shared settings into every target has ~200,000; an
 * alias bomb reaches this within a few levels. Everything downstream (schema,
 * fingerprints) walks the expanded data, so this bounds all of it.
 */
export const MAX_EXPANDED_NODES = 1_000_000;

/** Where an alias is written: the pair whose value it is, or the sequence and index. */
export type AliasUse = { readonly alias: Alias; readonly pair: Pair } | { readonly alias: Alias; readonly seq: YAMLSeq; readonly index: number };

export interface AliasFacts {
  /** What each alias refers to (the last anchor of its name before it). */
  readonly targets: Map<Alias, Node>;
  readonly uses: readonly AliasUse[];
}

/** A step of checkAliases' walk: a node to enter, or the end of an anchored node (to record its size). */
type Frame = { readonly enter: unknown; readonly use?: AliasUse | undefined } | { readonly leave: Node; readonly before: number };

/**
 * One pass in document order over what yaml would only trip over while
 * converting (a bare "unresolved alias", a stack trace for a bad merge, a
 * recursive structure) and what it would pay dearly for (an alias bomb):
 * an alias must come after its anchor and outside the node it names, `<<`
 * merges maps only, and the data once expanded stays under
 * MAX_EXPANDED_NODES. Sizes of anchored nodes are remembered, so the
 * expanded size is counted without expanding anything.
 */
export function checkAliases(root: unknown, locator: YamlLocator): Result<AliasFacts, Diagnostic> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const uses: AliasUse[] = [];
  /** Expanded size of each finished anchored node. */
  const sizes = new Map<Node, number>();
  /** Anchored nodes being walked: an alias to one of them would contain itself. */
  const open = new Set<Node>();
  const at = (node: unknown): SourceLocation => {
    const range = isAlias(node) || isMap(node) || isSeq(node) || isScalar(node) ? node.range : undefined;
    return locator.at(range?.[0] ?? 0);
  };
  let total = 0;

  const stack: Frame[] = [{ enter: root }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    if ('leave' in frame) {
      open.delete(frame.leave);
      sizes.set(frame.leave, total - frame.before);
      continue;
    }
    const node = frame.enter;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        return err(errorDiagnostic('yaml-unknown-alias', `invalid YAML: unknown alias \`*${node.source}\`; define the anchor \`&${node.source}\` before using it`, at(node)));
      }
      if (open.has(target)) {
        return err(
          errorDiagnostic(
            'yaml-recursive-alias',
            `invalid YAML: recursive alias \`*${node.source}\`: it is inside the node anchored \`&${node.source}\`, which would contain itself`,
            at(node),
          ),
        );
      }
      targets.set(node, target);
      if (frame.use !== undefined) uses.push(frame.use);
      total += sizes.get(target) ?? 1;
      if (total > MAX_EXPANDED_NODES) {
        return err(
          errorDiagnostic('yaml-alias-bomb', `YAML aliases expand to more than ${MAX_EXPANDED_NODES.toLocaleString('en-US')} nodes; refusing a possible alias bomb`, at(node)),
        );
      }
      continue;
    }
    total++;
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue;
    if (node.anchor !== undefined) {
      anchors.set(node.anchor, node);
      if (isScalar(node)) sizes.set(node, 1);
      else {
        open.add(node);
        stack.push({ leave: node, before: total - 1 });
      }
    }
    if (isMap(node)) {
      const bad = badMergeSource(node, anchors);
      if (bad !== undefined) {
        return err(errorDiagnostic('yaml-bad-merge', '`<<` merges maps only: give it an alias of a map (`<<: *common`) or a list of them', at(bad)));
      }
    }
    pushChildren(stack, node);
  }
  return ok({ targets, uses });
}

/** The first thing a `<<` in this map merges that is not a map (aliases are checked for existence when the walk reaches them). */
function badMergeSource(node: YAMLMap, anchors: ReadonlyMap<string, Node>): unknown {
  for (const item of node.items) {
    if (!isMergeKey(item.key)) continue;
    const value = item.value;
    const sources = isSeq(value) ? value.items : [value];
    const bad = sources.find((s) => (isAlias(s) ? anchors.has(s.source) && !isMap(anchors.get(s.source)) : !isMap(s)));
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Pushes a collection's children in reverse, so they pop in document order (anchors before their aliases). */
function pushChildren(stack: Frame[], node: YAMLMap | YAMLSeq | Scalar): void {
  if (isMap(node)) {
    for (let i = node.items.length - 1; i >= 0; i--) {
      const item = node.items[i];
      if (item === undefined) continue;
      stack.push({ enter: item.value, use: isAlias(item.value) ? { alias: item.value, pair: item } : undefined }, { enter: item.key });
    }
  } else if (isSeq(node)) {
    for (let i = node.items.length - 1; i >= 0; i--) {
      const item = node.items[i];
      stack.push({ enter: item, use: isAlias(item) ? { alias: item, seq: node, index: i } : undefined });
    }
  }
}

/** Puts each alias's node in its place for yaml's toJS; returns the undo. */
export function inlineAliases(uses: readonly AliasUse[], targets: ReadonlyMap<Alias, Node>): () => void {
  for (const use of uses) {
    const target = targets.get(use.alias);
    if ('pair' in use) use.pair.value = target ?? use.alias;
    else use.seq.items[use.index] = target ?? use.alias;
  }
  return () => {
    for (const use of uses) {
      if ('pair' in use) use.pair.value = use.alias;
      else use.seq.items[use.index] = use.alias;
    }
  };
}
