/**
 * A word diff of two prompts, for "prompt changed" in the plan: what a
 * reviewer needs is which words changed, not two paragraphs to compare by
 * eye. Words are runs of non-space compared without the spaces around
 * them; the parts keep the new prompt's spacing, so joining all but the
 * removed ones gives back the new prompt exactly.
 *
 * Longest common subsequence over words, O(n·m) time and memory: prompts
 * are short, and past MAX_CELLS the diff is the honest fallback of "all of
 * this removed, all of that added".
 */
export type WordDiffPart = { readonly op: 'same' | 'removed' | 'added'; readonly text: string };

const MAX_CELLS = 1_000_000;

function words(s: string): string[] {
  return s.match(/\s*\S+\s*/g) ?? (s === '' ? [] : [s]);
}

export function wordDiff(from: string, to: string): WordDiffPart[] {
  const a = words(from);
  const b = words(to);
  if (a.length * b.length > MAX_CELLS) return merge([...(from === '' ? [] : [{ op: 'removed' as const, text: from }]), ...(to === '' ? [] : [{ op: 'added' as const, text: to }])]);
  // lcs[i][j]: length of the LCS of a[i..] and b[j..]; compared without surrounding spaces.
  const key = (w: string): string => w.trim();
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = key(a[i] ?? '') === key(b[j] ?? '') ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const parts: WordDiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (key(a[i] ?? '') === key(b[j] ?? '')) {
      parts.push({ op: 'same', text: b[j] ?? '' });
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0)) {
      parts.push({ op: 'removed', text: a[i++] ?? '' });
    } else {
      parts.push({ op: 'added', text: b[j++] ?? '' });
    }
  }
  while (i < a.length) parts.push({ op: 'removed', text: a[i++] ?? '' });
  while (j < b.length) parts.push({ op: 'added', text: b[j++] ?? '' });
  return merge(parts);
}

/** Adjacent parts of one kind become one: `[-at dusk.-]`, not `[-at-] [-dusk.-]`. */
function merge(parts: readonly WordDiffPart[]): WordDiffPart[] {
  const out: WordDiffPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last !== undefined && last.op === p.op) out[out.length - 1] = { op: p.op, text: last.text + p.text };
    else out.push(p);
  }
  return out;
}

/** Words of unchanged text kept on each side of a change; the rest is elided. */
const CONTEXT_WORDS = 6;

/**
 * `A harbour at [-dusk.-]{+night.+}`: git's --word-diff=plain markers, with
 * colour when a palette paints them, on one line: line breaks become
 * spaces, control characters are shown escaped (a prompt is not trusted to
 * drive the terminal), and long unchanged runs keep CONTEXT_WORDS words
 * next to each change.
 */
export function renderWordDiff(parts: readonly WordDiffPart[], paint: { readonly removed: (s: string) => string; readonly added: (s: string) => string }): string {
  // The fingerprint sees every character; a diff of words can come out empty.
  if (parts.every((p) => p.op === 'same')) return '(only spacing or line breaks changed)';
  const out: string[] = [];
  parts.forEach((p, index) => {
    const flat = oneLine(p.text);
    if (p.op === 'same') {
      out.push(elide(flat, index === 0, index === parts.length - 1));
      return;
    }
    const inner = flat.trim();
    const lead = flat.startsWith(' ') ? ' ' : '';
    // `[-dusk,-]{+night,+}`: a replacement reads as one, with no space inside it.
    const replaced = p.op === 'removed' && parts[index + 1]?.op === 'added';
    const trail = flat.endsWith(' ') && inner !== '' && !replaced ? ' ' : '';
    out.push(`${lead}${p.op === 'removed' ? paint.removed(`[-${inner}-]`) : paint.added(`{+${inner}+}`)}${trail}`);
  });
  return out.join('').replace(/ {2,}/g, ' ').trim();
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An unchanged run with only the words next to the changes around it. */
function elide(text: string, first: boolean, last: boolean): string {
  const ws = text.split(' ').filter((w) => w !== '');
  const lead = text.startsWith(' ') ? ' ' : '';
  const trail = text.endsWith(' ') ? ' ' : '';
  const keepStart = first ? 0 : CONTEXT_WORDS;
  const keepEnd = last ? 0 : CONTEXT_WORDS;
  if (ws.length <= keepStart + keepEnd + 1) return text;
  const head = ws.slice(0, keepStart).join(' ');
  const tail = keepEnd === 0 ? '' : ws.slice(-keepEnd).join(' ');
  return `${lead}${[head, '…', tail].filter((x) => x !== '').join(' ')}${trail}`;
}
