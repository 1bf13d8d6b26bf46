/**
 * Renders `docs/manifest-reference.md` from `schemas/videos.schema.json`, so
 * the reference cannot drift from the schema (a test pins the file).
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

function resolveRef(root: Record<string, unknown>, node: Record<string, unknown>): Record<string, unknown> {
  const ref = node['$ref'];
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  const defs = root['$defs'];
  const target = isRecord(defs) ? defs[ref.slice('#/$defs/'.length)] : undefined;
  if (!isRecord(target)) return node;
  // Sibling keywords (a more specific description) win over the definition's.
  return { ...resolveRef(root, target), ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) };
}

function typeOf(node: Record<string, unknown>): string {
  // One of several forms (`input_reference`): each form's title, whose fields follow as rows.
  if (Array.isArray(node['oneOf'])) return node['oneOf'].filter(isRecord).map((b) => String(b['title'] ?? typeOf(b))).join(' | ');
  if ('const' in node) return `\`${JSON.stringify(node['const'])}\``;
  // `|` is escaped once, by cell(); escaping here too would show a backslash.
  if (Array.isArray(node['enum'])) return node['enum'].map((v) => `\`${String(v)}\``).join(' | ');
  const t = node['type'];
  const base = Array.isArray(t) ? t.join(' | ') : typeof t === 'string' ? t : 'any';
  const parts = [base];
  if (typeof node['pattern'] === 'string') parts.push(`matching \`${node['pattern']}\``);
  if (typeof node['minimum'] === 'number' && typeof node['maximum'] === 'number') parts.push(`${node['minimum']}–${node['maximum']}`);
  return parts.join(', ');
}

function collect(root: Record<string, unknown>, raw: Record<string, unknown>, prefix: string, rows: Row[], depth: number): void {
  const node = resolveRef(root, raw);
  const props = node['properties'];
  const required = Array.isArray(node['required']) ? node['required'].map(String) : [];
  if (isRecord(props)) {
    for (const [name, childRaw] of Object.entries(props)) {
      if (!isRecord(childRaw)) continue;
      const child = resolveRef(root, childRaw);
      const path = prefix === '' ? name : `${prefix}.${name}`;
      rows.push({ path, type: typeOf(child), required: required.includes(name), description: String(child['description'] ?? '') });
      if (depth < 6) collect(root, child, path, rows, depth + 1);
    }
  }
  const forms = node['oneOf'];
  if (Array.isArray(forms) && depth < 6) for (const form of forms.filter(isRecord)) collect(root, form, prefix, rows, depth + 1);
  const patterns = node['patternProperties'];
  if (isRecord(patterns)) {
    for (const [pattern, childRaw] of Object.entries(patterns)) {
      if (!isRecord(childRaw)) continue;
      const child = resolveRef(root, childRaw);
      const name = `<name matching ${pattern}>`;
      rows.push({ path: prefix === '' ? name : `${prefix}.${name}`, type: typeOf(child), required: false, description: String(child['description'] ?? '') });
    }
  }
  const extra = node['additionalProperties'];
  if (isRecord(extra)) {
    const child = resolveRef(root, extra);
    const path = `${prefix}.<name>`;
    rows.push({ path, type: typeOf(child), required: false, description: String(child['description'] ?? '') });
    if (depth < 6) collect(root, child, path, rows, depth + 1);
  }
  const items = node['items'];
  if (isRecord(items)) {
    const child = resolveRef(root, items);
    if (isRecord(child['properties'])) collect(root, child, `${prefix}[]`, rows, depth + 1);
  }
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * Prose cells: also keep `<name>` from being read as an HTML tag, except
 * inside code spans, where markdown shows `&lt;` literally.
 */
function prose(text: string): string {
  return cell(text)
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replaceAll('<', '&lt;').replaceAll('>', '&gt;')))
    .join('');
}

export function renderManifestReference(schema: unknown): string {
  if (!isRecord(schema)) throw new Error('schema is not an object');
  const rows: Row[] = [];
  collect(schema, schema, '', rows, 0);
  const lines = [
    '# `videos.yaml` reference',
    '',
    '<!-- Generated from schemas/videos.schema.json by src/manifest/schema-reference.ts; test/manifest/manifest-reference.test.ts keeps it in sync. Do not edit by hand. -->',
    '',
    prose(String(schema['description'] ?? '')),
    '',
    'Beyond the schema, `vidbuild validate` checks: references name existing targets and form no cycle; referenced files exist',
    'and stay inside the project (no `..`, absolute or Windows paths, no symlinks out); an `input_reference` is a JPEG, PNG',
    "or WebP image of the video's size (read from its header), while an `input_reference` URL or file id is never read or fetched",
    '(an `image_url` is https, or http only for a loopback host, with no user name, password, signature or token in it);',
    'an `edit`/`extend` file is an MP4 with a video track, and',
    'extending it stays within the total length; a character video is an MP4 of 2-4 s, 16:9 or 9:16, 720p-1080p',
    '(data/capabilities.json `characters.video`; MP4 box headers are read, never the media); target names are portable file names;',
    'model, size and seconds are accepted by the model (data/capabilities.json, widened by `provider.capabilities`);',
    'at most 2 characters per video and only on generated videos (not on a remix, edit or extension), and a warning when',
    "a prompt does not say a character's name verbatim; extension chains stay within the limits (counted through remixes",
    'and edits of an extension); outputs do not collide;',
    '`provider.baseURL` parses as a URL with no user name, password or fragment, and no credential in its query or in `provider.query`.',
    '',
    '| Field | Type | Required | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.path}\` | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${prose(r.description)} |`),
    '',
  ];
  return lines.join('\n');
}
