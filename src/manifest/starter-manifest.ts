/**
 * What `vidbuild init` writes: a small manifest that validates as is, with
 * the modeline editors use to find the schema.
 */
export function starterManifest(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# vidbuild manifest: \`vidbuild plan\` shows what would be generated, \`vidbuild apply\` does it.
version: 1
defaults: { model: sora-2, size: 1280x720, seconds: 4 }
outDir: videos            # outputs: videos/<name>.mp4 (+ .thumbnail.webp, .spritesheet.jpg)
videos:
  intro:
    prompt: Wide shot of a lighthouse at dawn, slow dolly in.
    seconds: 8
    assets: [video, thumbnail]
  # intro_night: { remix: intro, prompt: "Same shot at night, lamp sweeping through fog." }
  # intro_long:  { extend: intro, prompt: "The camera rises above the lighthouse.", seconds: 4 }
`;
}

/** `.gitignore` text with `.vidbuild/` added, or undefined when it is already ignored. */
export function withGitignoreEntry(existing: string | undefined, entry = '.vidbuild/'): string | undefined {
  const bare = entry.replace(/\/$/, '');
  // Any pattern that ignores the whole folder (`.vidbuild`, `/.vidbuild/`, `.vidbuild/*`, `**/.vidbuild/**`).
  const pattern = /^(?:\/|\*\*\/)?(.*?)(?:\/(?:\*\*?)?)?$/;
  const present = (existing ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .some((l) => pattern.exec(l)?.[1] === bare);
  if (present) return undefined;
  const base = existing ?? '';
  // Keep the file's own line ends.
  const eol = base.includes('\r\n') ? '\r\n' : '\n';
  const sep = base === '' || base.endsWith('\n') ? '' : eol;
  return `${base}${sep}${entry}${eol}`;
}
