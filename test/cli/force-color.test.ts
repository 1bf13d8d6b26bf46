import { describe, expect, it } from 'vitest';
import { cliEnv, tempProject, vidbuild } from '../apply/rig.js';

const ONE = 'version: 1\noutDir: out\nvideos:\n  intro: { prompt: A lighthouse at dawn. }\n';
const ESC = '\u001b[';

/** The CLI's environment without the NO_COLOR the rig sets, plus `extra`. */
function env(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const e = cliEnv(extra);
  if (!('NO_COLOR' in extra)) delete e['NO_COLOR'];
  return e;
}

describe('FORCE_COLOR (CI logs that render ANSI colour, without a TTY)', () => {
  it('colours plan output on a pipe; FORCE_COLOR=0, NO_COLOR, --no-color and --json stay plain', async () => {
    const dir = await tempProject({ 'videos.yaml': ONE });
    const plain = await vidbuild(['plan'], dir, env({}));
    expect(plain.stdout).not.toContain(ESC);
    const forced = await vidbuild(['plan'], dir, env({ FORCE_COLOR: '1' }));
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(ESC);
    // Colour only decorates: without the codes it is the plain text.
    // eslint-disable-next-line no-control-regex
    expect(forced.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain.stdout);
    for (const [args, extra] of [
      [['plan'], { FORCE_COLOR: '0' }],
      [['plan'], { FORCE_COLOR: '1', NO_COLOR: '1' }],
      [['plan', '--no-color'], { FORCE_COLOR: '1' }],
      [['plan', '--json'], { FORCE_COLOR: '1' }],
    ] as const) {
      const r = await vidbuild(args, dir, env(extra));
      expect(r.code, `${args.join(' ')} ${JSON.stringify(extra)}`).toBe(0);
      expect(r.stdout, `${args.join(' ')} ${JSON.stringify(extra)}`).not.toContain(ESC);
    }
  });
});
