import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Node, type Pair, type YAMLSeq } from 'yaml';
import { err, ok, type Result } from '../../core/result.js';
import { distinctDiagnostics, errorDiagnostic, type Diagnostic, type SourceLocation } from '../../core/diagnostic.js';
import { checkAliases, inlineAliases } from './aliases.js';
import { findUnterminatedQuote, unterminatedQuoteMessage } from './unterminated-quote.js';
import { YamlLocator, isMergeKey } from './yaml-locations.js';

/** Deeper than any real manifest (which nests 4 levels); keeps recursion bounded. */
export const MAX_DEPTH = 32;
/**
 * Lines plus flow-collection items (`,` `[` `{`) the full parser is given.
 * yaml's parseDocument costs ~10-25 µs and ~1-2 KB per such unit (8 MiB of
 * `[1,1,...]` took 49 s and 3.8 GB, 8 MiB of `key: 1` lines 9 s and 0.9 GB);
 * this bound keeps it under 3 s and 300 MB on a 2-core machine. A 10,000-target
 * manifest written with anchors and block-scalar prompts has ~95,000. Plain
 * manifests never get here: the fast reader reads them at any size.
 */
export const MAX_FULL_PARSE_UNITS = 150_000;

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
  const units = structuralUnits(text);
  if (units > MAX_FULL_PARSE_UNITS) {
    return err([
      errorDiagnostic(
        'manifest-too-complex',
        `${file}: too large for the general YAML parser (${units.toLocaleString('en-US')} lines and flow items, limit ${MAX_FULL_PARSE_UNITS.toLocaleString('en-US')}); larger manifests must be plain YAML (no anchors, aliases, tags, block scalars, tabs or multi-line values) and free of syntax errors and duplicate keys`,
      ),
    ]);
  }
  const lines = new LineCounter();
  // `merge`: `<<: *defaults` is how teams share settings between entries in YAML.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false, merge: true });
  const locator = new YamlLocator(file, doc, lines);

  const diagnostics: Diagnostic[] = [];
  // An unterminated quote swallows the text after it, so yaml's errors from
  // there on are its consequences: it is reported once, at its opening quote,
  // with only the errors before it.
  const quote = findUnterminatedQuote(text, doc.errors);
  const syntaxErrors = quote === undefined ? doc.errors : doc.errors.filter((e) => e.pos[0] < quote.start);
  for (const e of syntaxErrors) {
    const first = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'invalid YAML';
    if (/call stack/i.test(first)) {
      // The parser recursed until the stack ran out: only absurd nesting does that.
      diagnostics.push(errorDiagnostic('yaml-too-deep', `YAML nests too deeply (more than ${MAX_DEPTH} levels)`, locator.at(e.pos[0])));
      break;
    }
    const message = e.code === 'MULTIPLE_DOCS' ? 'a manifest is a single YAML document; remove the extra `---`' : first;
    diagnostics.push(errorDiagnostic('yaml-syntax', `invalid YAML: ${lowerFirst(message)}`, locator.at(e.pos[0])));
  }
  if (quote !== undefined && diagnostics.every((d) => d.code !== 'yaml-too-deep')) {
    diagnostics.push(errorDiagnostic('yaml-unterminated-quote', `invalid YAML: ${unterminatedQuoteMessage(quote)}`, locator.at(quote.start)));
  }
  // yaml can report one fault several times at one place (a flow map's end once per enclosing map).
  if (diagnostics.length > 0) return err(distinctDiagnostics(diagnostics));

  const structural = checkStructure(doc.contents, locator, text);
  if (structural.fatal.length > 0) return err([...structural.fatal, ...structural.duplicates]);
  const aliases = checkAliases(doc.contents, locator);
  if (!aliases.ok) return err([aliases.error, ...structural.duplicates]);
  locator.useAliasTargets(aliases.value.targets);

  // yaml resolves each alias by scanning every anchor and alias before it
  // (quadratic: 20,000 `<<: *defaults` took 3.5 s). The aliases are already
  // resolved and bounded above, so each is swapped for its node while
  // converting and put back after (the locator reports an alias where it is used).
  const restore = inlineAliases(aliases.value.uses, aliases.value.targets);
  try {
    const data: unknown = doc.toJS({ maxAliasCount: -1 });
    return ok({ data, locator, errors: structural.duplicates });
  } catch (e: unknown) {
    // Anything yaml refuses while converting is still a problem with the input, not a crash.
    if (e instanceof Error) return err([errorDiagnostic('yaml-syntax', `invalid YAML: ${lowerFirst(e.message.split('\n')[0] ?? '')}`, locator.at(0))]);
    throw e;
  } finally {
    restore();
  }
}

/** Lines and flow-collection items: what the full parser's cost grows with. */
function structuralUnits(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A lone CR is a line break too (CRLF counts once).
    if (c === 10 /* \n */ || c === 44 /* , */ || c === 91 /* [ */ || c === 123 /* { */ || (c === 13 && text.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}


function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Tags a manifest may carry: those of the JSON-compatible core schema, which
 * only say what the plain value already is (`!!str 8` keeps a number as
 * text). Any other (`!foo`, `!!python/object`, `!!binary`, `!!set`) was read
 * as if absent, or turned into data no field takes; it is refused instead.
 */
const PLAIN_TAGS: ReadonlySet<string> = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** A tag as it is written: `!!binary` for the core namespace, else as resolved (`!foo`). */
function writtenTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
}

/**
 * Where a tag starts: yaml's node range begins at the value after it, so
 * this looks back from there for the `!` that opens the tag's token.
 */
function tagStart(text: string, valueStart: number): number {
  let i = text.lastIndexOf('!', valueStart - 1);
  if (i < 0) return valueStart;
  while (i > 0 && !/[\s[{,]/.test(text.charAt(i - 1))) i--;
  return i;
}

/** Finds duplicate keys, non-scalar keys, tags and excessive depth, without recursion deeper than MAX_DEPTH. */
function checkStructure(root: unknown, locator: YamlLocator, text: string): { fatal: Diagnostic[]; duplicates: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const duplicates: Diagnostic[] = [];
  const tagged = (node: unknown): boolean => {
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) return false;
    if (node.tag === undefined || PLAIN_TAGS.has(node.tag)) return false;
    out.push(
      errorDiagnostic(
        'yaml-tag',
        `unsupported YAML tag \`${writtenTag(node.tag)}\`: a manifest holds plain text, numbers, lists and maps (quote a value that starts with \`!\`)`,
        locator.at(tagStart(text, node.range?.[0] ?? 0)),
      ),
    );
    return true;
  };
  const visit = (node: unknown, depth: number): boolean => {
    if (depth > MAX_DEPTH) {
      const range = isMap(node) || isSeq(node) || isScalar(node) ? node.range : undefined;
      out.push(errorDiagnostic('yaml-too-deep', `YAML nests deeper than ${MAX_DEPTH} levels`, locator.at(range?.[0] ?? 0)));
      return false;
    }
    if (tagged(node)) return false;
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = item.key;
        if (tagged(key)) return false;
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
