import { didYouMean } from '../did-you-mean.js';
import type { CharacterName } from '../manifest.js';
import { checkProjectPath } from '../path-safety.js';
import type { RawVideo } from '../raw-manifest.js';
import { badCharacterNameReason, isCharacterName } from '../safe-name.js';
import type { CheckContext } from './context.js';
import { article, type DerivedKind } from './derivation.js';

/** The top-level `characters`: safe, distinguishable names and safe video paths, whose videos are checked on disk. */
export function collectCharacters(ctx: CheckContext): void {
  const byLook = new Map<string, string>();
  for (const [name, c] of Object.entries(ctx.raw.characters ?? {})) {
    const reason = badCharacterNameReason(name);
    if (reason !== undefined || !isCharacterName(name)) {
      ctx.error('bad-character-name', `character name \`${name}\` ${reason ?? 'is not valid'}`, ctx.keyAt('characters', name));
      ctx.badCharacters.add(name);
      continue;
    }
    const first = byLook.get(lookKey(name));
    if (first !== undefined) {
      const at = ctx.keyAt('characters', first);
      const how = first.normalize('NFC') === name.normalize('NFC') ? 'with its accents encoded differently' : 'in different letter case';
      ctx.error(
        'duplicate-character-name',
        `character name \`${name}\` is \`${first}\` (line ${at.line}, column ${at.col}) ${how}; give each character a name that reads differently, since prompts name them verbatim`,
        ctx.keyAt('characters', name),
      );
      ctx.badCharacters.add(name);
      continue;
    }
    byLook.set(lookKey(name), name);
    const checked = checkProjectPath(c.video);
    if (!checked.ok) {
      ctx.error('unsafe-path', `\`video\` of character \`${name}\` ${checked.reason} (got ${JSON.stringify(c.video)})`, ctx.valueAt('characters', name, 'video'));
      ctx.badCharacters.add(name);
      continue;
    }
    const location = ctx.keyAt('characters', name);
    ctx.characters.set(name, { name, video: checked.path, location });
    ctx.fileChecks.push({ path: checked.path, field: `video of character \`${name}\``, at: ['characters', name, 'video'], video: { role: 'character', limits: ctx.caps.characterVideo } });
  }
}

/**
 * What a name looks like to a reader: NFC (an accent typed as a separate
 * combining mark, as some macOS tools write it, reads the same as the
 * precomposed letter) and case-folded (as target names that differ only in
 * case are refused). Two characters with one look could not be told apart in
 * a prompt or a review, though YAML keeps them as distinct keys.
 */
function lookKey(name: string): string {
  return name.normalize('NFC').toLocaleLowerCase('und').normalize('NFC');
}

/** A video's `characters`: only on a new video, known, not too many, and named in its prompt. */
export function checkVideoCharacters(ctx: CheckContext, name: string, v: RawVideo, kind: DerivedKind | undefined): CharacterName[] {
  const list = v.characters ?? [];
  if (list.length === 0) return [];
  if (kind === 'extend') {
    ctx.error('characters-on-extension', 'an extension cannot use `characters` (the API refuses them); characters carry over from the source video', ctx.keyAt('videos', name, 'characters'));
    return [];
  }
  if (kind !== undefined) {
    // Remix and edit requests have no characters field: the list would be dropped while the plan waited for it.
    ctx.error('characters-on-derived', `${article(kind)} cannot use \`characters\` (the API takes them only when generating a new video); characters carry over from the source video`, ctx.keyAt('videos', name, 'characters'));
    return [];
  }
  const max = ctx.caps.maxCharactersPerVideo;
  if (list.length > max) ctx.error('too-many-characters', `a video may use at most ${max} characters (got ${list.length})`, ctx.valueAt('videos', name, 'characters'));
  const out: CharacterName[] = [];
  list.forEach((c, i) => {
    const known = isCharacterName(c) ? ctx.characters.get(c)?.name : undefined;
    if (known === undefined) {
      if (ctx.badCharacters.has(c)) return;
      const defined = Object.keys(ctx.raw.characters ?? {});
      const hint = defined.length === 0 ? '; define it under top-level `characters:`' : didYouMean(c, defined);
      ctx.error('unknown-character', `unknown character \`${c}\`${hint}`, ctx.valueAt('videos', name, 'characters', i));
      return;
    }
    out.push(known);
    if (!v.prompt.includes(c)) {
      const message = `the prompt of \`${name}\` never mentions character \`${c}\`${nearMention(v.prompt, c)}; the API needs the name verbatim in the prompt`;
      ctx.warn('character-not-in-prompt', message, ctx.valueAt('videos', name, 'characters', i));
    }
  });
  return out;
}

/**
 * When the prompt says the name in a spelling the API would not match: other
 * letter case, or the same letters in another Unicode form (an accent typed
 * as a separate combining mark, as some macOS tools write it).
 */
function nearMention(prompt: string, name: string): string {
  const nfc = name.normalize('NFC');
  const text = prompt.normalize('NFC');
  if (text.includes(nfc)) return ' as written (it is there with its accents encoded differently)';
  const lower = text.toLowerCase();
  const at = lower.indexOf(nfc.toLowerCase());
  // Lower-casing can change the length (e.g. 'İ'): quote only when positions still line up.
  if (at >= 0 && lower.length === text.length) return ` (it says \`${text.slice(at, at + nfc.length)}\`)`;
  return '';
}
