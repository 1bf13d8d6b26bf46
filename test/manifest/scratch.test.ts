import { it } from 'vitest';
import { loadManifest } from '../../src/manifest/load-manifest.js';
it('x', async () => {
const r = await loadManifest('videos.yaml', { cwd: '/tmp/vb/p1' });
console.log(JSON.stringify(r.ok ? { w: r.value.warnings, t: [...r.value.manifest.targets.values()] } : r.error, null, 1).slice(0, 4000));
});
