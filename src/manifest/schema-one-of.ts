import type { ErrorObject } from 'ajv/dist/2020.js';

/**
 * A `oneOf` (`input_reference`: a path, `{ image_url }` or `{ file_id }`)
 * makes ajv report what is wrong against every branch: a bad URL came out as
 * five errors ("must be a string", "missing file_id", "unknown key
 * image_url", the pattern, "must match exactly one schema"). The user meant
 * one branch, told by the value's shape (its type, and for a map the keys
 * that branch requires): keep only that branch's errors. When no branch or
 * more than one fits (`{}`, both `image_url` and `file_id`, a number), keep
 * only the `oneOf` error, which says what the choices are.
 */
export function narrowOneOf(errors: readonly ErrorObject[]): ErrorObject[] {
  const drop = new Set<ErrorObject>();
  for (const o of errors) {
    if (o.keyword !== 'oneOf') continue;
    const meant = meantBranch(o.data, Array.isArray(o.schema) ? o.schema : []);
    if (meant !== undefined) drop.add(o);
    const prefix = `${o.schemaPath}/`;
    for (const e of errors) {
      if (e === o || !e.schemaPath.startsWith(prefix)) continue;
      if (e.instancePath !== o.instancePath && !e.instancePath.startsWith(`${o.instancePath}/`)) continue;
      if (Number(e.schemaPath.slice(prefix.length).split('/')[0]) !== meant) drop.add(e);
    }
  }
  return errors.filter((e) => !drop.has(e));
}

/** The one branch whose type (and, for a map, required keys) the value has; undefined unless exactly one. */
function meantBranch(data: unknown, branches: readonly unknown[]): number | undefined {
  const fits: number[] = [];
  branches.forEach((b, i) => {
    if (typeof b !== 'object' || b === null) return;
    const type: unknown = 'type' in b ? b.type : undefined;
    const required: unknown = 'required' in b ? b.required : [];
    const isMap = typeof data === 'object' && data !== null && !Array.isArray(data);
    if (type === 'string' && typeof data === 'string') fits.push(i);
    else if (type === 'object' && isMap && Array.isArray(required) && required.every((k) => typeof k === 'string' && Object.hasOwn(data, k))) fits.push(i);
  });
  return fits.length === 1 ? fits[0] : undefined;
}

/** The choices a `oneOf` offers, by their titles: "a path to a local image, { image_url: https://... } or { file_id: file-... }". */
export function oneOfChoices(e: ErrorObject): string {
  const titles = (Array.isArray(e.schema) ? e.schema : []).map((b: unknown) => (typeof b === 'object' && b !== null && 'title' in b ? String(b.title) : 'another form'));
  return titles.length <= 1 ? titles.join('') : `${titles.slice(0, -1).join(', ')} or ${titles[titles.length - 1] ?? ''}`;
}
