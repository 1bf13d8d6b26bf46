import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { err, ok, type Result } from '../core/result.js';
import { errorDiagnostic, type Diagnostic, type SourceLocation } from '../core/diagnostic.js';
import { YamlLocator, isMergeKey } from './yaml-locations.js';

/** Deeper than any real manifest (which nests 4 levels); keeps recursion bounded. */
export const MAX_DEPTH = 32;
/** Alias expansions allowed; an alias bomb needs millions. */
export const MAX_ALIAS_COUNT = 100;

export interface ParsedYaml {
  readonly data: unknown;
  readonly locator: YamlLocator;
  /** Problems that still leave usable data (duplicate keys), reported with the later stages' errors. */
  readonly errors: readonly Diagnostic[];
}

/**
 * Parses manifest text into plain data while keeping every node's position.
 *
 * Duplicate keys are found here in one pass (yaml's own `uniqueKeys` check is
 * quadratic per map, which a 10,000-target `videos:` map cannot afford).
 * Nesting depth and alias expansion are bounded before anything recursive runs.
 */
export function parseManifestYaml(text: string, file: string): Result<ParsedYaml, Diagnostic[]> {
  const lines = new LineCounter();
  // `merge`: `<<: *defaults` is how teams share settings between entries in YAML.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, merge: true });
  const locator = new YamlLocator(file, doc, lines);

  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const first = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML';
    if (/call stack/i.test(first)) {
      // The parser recursed until the stack ran out: only absurd nesting does that.
      diagnostics.push(errorDiagnostic('yaml-too-deep', `YAML nests too deeply (more than ${MAX_DEPTH} levels)`, locator.at(e.pos[0])));
      break;
    }
    const message = e.code === 'MULTIPLE_DOCS' ? 'a manifest is a single YAML document; remove the extra `---`' : first;
    diagnostics.push(errorDiagnostic('yaml-syntax', `invalid YAML: ${lowerFirst(message)}`, locator.at(e.pos[0])));
  }
  if (diagnostics.length > 0) return err(diagnostics);

  const structural = checkStructure(doc.contents, locator);
  if (structural.fatal.length > 0) return err([...structural.fatal, ...structural.duplicates]);
  const aliasProblem = checkAliases(doc.contents, locator);
  if (aliasProblem !== undefined) return err([aliasProblem, ...structural.duplicates]);

  try {
    const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return ok({ data, locator, errors: structural.duplicates });
  } catch (e: unknown) {
    if (e instanceof ReferenceError) {
      const first = firstAlias(doc.contents);
      const where = first?.range ? locator.at(first.range[0]) : locator.at(0);
      return err([
        errorDiagnostic('yaml-alias-bomb', `YAML aliases expand to too many nodes (limit ${MAX_ALIAS_COUNT}); refusing a possible alias bomb`, where),
      ]);
    }
    // Anything else yaml refuses while converting is still a problem with the input, not a crash.
    if (e instanceof Error) return err([errorDiagnostic('yaml-syntax', `invalid YAML: ${lowerFirst(e.message.split('\n')[0] ?? '')}`, locator.at(0))]);
    throw e;
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Finds duplicate keys, non-scalar keys and excessive depth, without recursion deeper than MAX_DEPTH. */
function checkStructure(root: unknown, locator: YamlLocator): { fatal: Diagnostic[]; duplicates: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const duplicates: Diagnostic[] = [];
  const visit = (node: unknown, depth: number): boolean => {
    if (depth > MAX_DEPTH) {
      const range = isMap(node) || isSeq(node) || isScalar(node) ? node.range : undefined;
      out.push(errorDiagnostic('yaml-too-deep', `YAML nests deeper than ${MAX_DEPTH} levels`, locator.at(range?.[0] ?? 0)));
      return false;
    }
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = item.key;
        if (!isScalar(key)) {
          const start = isMap(key) || isSeq(key) || isAlias(key) ? key.range?.[0] : undefined;
          out.push(errorDiagnostic('yaml-complex-key', 'keys must be plain names, not lists, maps or aliases', locator.at(start ?? node.range?.[0] ?? 0)));
          continue;
        }
        const name = isMergeKey(key) ? '<<' : String(key.value);
        const first = seen.get(name);
        if (first !== undefined) {
          const firstAt = locator.at(first);
          duplicates.push(
            errorDiagnostic('duplicate-key', `duplicate key \`${name}\` (first defined at line ${firstAt.line})`, locator.at(key.range?.[0] ?? 0)),
          );
        } else {
          seen.set(name, key.range?.[0] ?? 0);
        }
        if (!visit(item.value, depth + 1)) return false;
      }
    } else if (isSeq(node)) {
      for (const item of node.items) if (!visit(item, depth + 1)) return false;
    }
    return true;
  };
  visit(root, 0);
  return { fatal: out, duplicates };
}

/**
 * Aliases yaml would only trip over while converting (with a bare
 * "unresolved alias", or a stack trace for a bad merge): an alias must come
 * after its anchor, and `<<` merges maps only. One pass in document order.
 */
function checkAliases(root: unknown, locator: YamlLocator): Diagnostic | undefined {
  const anchors = new Map<string, unknown>();
  const at = (node: unknown): SourceLocation => {
    const range = isAlias(node) || isMap(node) || isSeq(node) || isScalar(node) ? node.range : undefined;
    return locator.at(range?.[0] ?? 0);
  };
  const target = (node: unknown): unknown => (isAlias(node) ? anchors.get(node.source) : node);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (!anchors.has(node.source)) {
        return errorDiagnostic('yaml-unknown-alias', `invalid YAML: unknown alias \`*${node.source}\`; define the anchor \`&${node.source}\` before using it`, at(node));
      }
      continue;
    }
    if ((isMap(node) || isSeq(node) || isScalar(node)) && node.anchor !== undefined) anchors.set(node.anchor, node);
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isMergeKey(item.key)) continue;
        const value = item.value;
        const sources = isSeq(value) ? value.items : [value];
        // Aliases in the merge are checked for existence when the walk reaches them.
        const bad = sources.find((s) => (isAlias(s) ? anchors.has(s.source) && !isMap(target(s)) : !isMap(s)));
        if (bad !== undefined) {
          return errorDiagnostic('yaml-bad-merge', '`<<` merges maps only: give it an alias of a map (`<<: *common`) or a list of them', at(bad));
        }
      }
      for (const item of [...node.items].reverse()) stack.push(item.value, item.key);
    } else if (isSeq(node)) {
      for (const item of [...node.items].reverse()) stack.push(item);
    }
  }
  return undefined;
}

function firstAlias(root: unknown): Node | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) return node;
    // Pushed in reverse so the first alias in document order pops first.
    if (isMap(node)) for (const item of [...node.items].reverse()) stack.push(item.value, item.key);
    else if (isSeq(node)) for (const item of [...node.items].reverse()) stack.push(item);
  }
  return undefined;
}
