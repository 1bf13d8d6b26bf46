import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { IDLE, startWatch, tempProject, twoClipManifest } from './watch-process.js';

/**
 * The preview page in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), against a real `vidbuild watch --preview` process.
 */
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`preview browser tests SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

async function launch() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  onTestFinished(() => browser.close());
  return browser;
}

describe.skipIf(!haveChromium)('preview page (headless Chromium)', () => {
  it('renders a card per target and updates live on a prompt edit, without reloading', async () => {
    const dir = await tempProject({ 'videos.yaml': twoClipManifest('A red kite over a beach.', 'A blue boat at anchor.') });
    const w = startWatch(dir, { args: ['--preview'], jobSeconds: 1 });
    const urlLine = await w.waitFor(/^preview: http:\/\/127\.0\.0\.1:\d+\/$/);
    const url = (w.lines[urlLine] ?? '').slice('preview: '.length);
    let at = await w.waitFor(IDLE);

    const browser = await launch();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    const alpha = page.locator('article.card[data-target="alpha"]');
    await page.locator('article.card').nth(1).waitFor();
    expect(await page.locator('article.card').count()).toBe(2);
    await alpha.locator('.status', { hasText: /up to date|done/ }).waitFor();
    await expect.poll(() => alpha.locator('video.current').getAttribute('src')).toMatch(/^\/files\/videos\/alpha\.mp4\?v=/);
    expect(await alpha.locator('.prompt').textContent()).toBe('A red kite over a beach.');
    const oldSrc = await alpha.locator('video.current').getAttribute('src');
    // The MP4 really plays in place (content type and byte ranges are right for Chromium).
    await expect
      .poll(() => page.evaluate(`document.querySelector('article.card[data-target="alpha"] video.current').readyState`))
      .toBeGreaterThanOrEqual(2);

    // Remember every status the card shows, and mark the document: a reload would lose both.
    // (Browser-side code as strings: the test's tsconfig has no DOM types.)
    await page.evaluate(`(() => {
      const seen = [];
      window.__seen = seen;
      window.__noReload = true;
      const card = document.querySelector('article.card[data-target="alpha"]');
      new MutationObserver(() => seen.push(card.getAttribute('data-status'))).observe(card, {
        attributes: true,
        attributeFilter: ['data-status'],
      });
    })()`);

    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest('A green kite over a beach.', 'A blue boat at anchor.'));
    const changed = await w.waitFor(/videos\.yaml changed/, at + 1);
    at = await w.waitFor(IDLE, changed);

    await alpha.locator('.prompt', { hasText: 'A green kite over a beach.' }).waitFor();
    await alpha.locator('.status', { hasText: 'done' }).waitFor();
    // Done is done: the plan's "replace: prompt changed" is history once the new version is in.
    await expect.poll(() => alpha.locator('.reason').textContent()).toBe('done');
    // The emulator bills nothing: the header says what the jobs would cost, not "spent".
    expect(await page.locator('#spent').textContent()).toMatch(/^\$\d+\.\d\d at API prices, not billed$/);
    await expect.poll(() => alpha.locator('video.current').getAttribute('src')).not.toBe(oldSrc);
    const seen: unknown = await page.evaluate('window.__seen');
    expect(seen).toEqual(expect.arrayContaining(['done']));
    expect(seen).toEqual(expect.arrayContaining([expect.stringMatching(/^(pending|submitting|queued|in_progress)$/)]));
    expect(await page.evaluate('window.__noReload')).toBe(true);
    // Both versions are in the cache and shown side by side, the new one marked current.
    await expect.poll(() => alpha.locator('.history figure').count()).toBe(2);
    expect(await alpha.locator('.history figure.current-version .version-prompt').textContent()).toBe('A green kite over a beach.');
    // The beta card did not move.
    expect(await page.locator('article.card[data-target="beta"]').getAttribute('data-status')).toBe('up-to-date');

    // An invalid edit is shown prominently; the cards keep the last good state.
    await fs.writeFile(path.join(dir, 'videos.yaml'), 'version: 1\nvideos:\n  alpha: { prompt: 12 }\n  beta: { prompt: x, seconds: 5 }\n');
    await page.locator('#errors:not([hidden])').waitFor();
    expect(await page.locator('#error-lines').textContent()).toMatch(/videos\.yaml:\d+:\d+: /);
    expect(await page.locator('article.card').count()).toBe(2);

    expect(pageErrors).toEqual([]);
    expect(await w.quit()).toBe(0);
  });

  it('draws a portrait clip in a portrait box, and a tile placeholder goes once its video has a frame', async () => {
    const dir = await tempProject({
      'videos.yaml': 'version: 1\ndefaults: { model: sora-2, size: 720x1280, seconds: 4 }\noutDir: videos\nvideos:\n  tall: { prompt: A lighthouse seen from below. }\n',
    });
    const w = startWatch(dir, { args: ['--preview'], jobSeconds: 0.5 });
    const urlLine = await w.waitFor(/^preview: http:\/\/127\.0\.0\.1:\d+\/$/);
    const url = (w.lines[urlLine] ?? '').slice('preview: '.length);
    await w.waitFor(IDLE);
    const browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    const card = page.locator('article.card[data-target="tall"]');
    await card.locator('.status', { hasText: /up to date|done/ }).waitFor();
    const box = await card.locator('.player').boundingBox();
    expect(box).not.toBeNull();
    expect((box?.height ?? 0) / (box?.width ?? 1)).toBeCloseTo(1280 / 720, 1);
    await expect.poll(() => page.evaluate(`document.querySelector('article.card[data-target="tall"] video.current').readyState`)).toBeGreaterThanOrEqual(2);
    await expect.poll(() => card.locator('.player.loading').count()).toBe(0);
    await expect.poll(() => card.locator('.history figure').count()).toBe(1);
    await expect.poll(() => card.locator('.history figure.loading').count()).toBe(0);
    expect(await w.quit()).toBe(0);
  });

  it('started on an invalid manifest, the page shows the error at once, then the cards at the first valid save', async () => {
    const dir = await tempProject({ 'videos.yaml': 'version: 1\nvideos:\n  alpha: { prompt: [\n' });
    const w = startWatch(dir, { args: ['--preview'] });
    const urlLine = await w.waitFor(/^preview: http:\/\/127\.0\.0\.1:\d+\/$/);
    const url = (w.lines[urlLine] ?? '').slice('preview: '.length);
    const at = await w.waitFor(/waiting for a valid manifest/);

    const browser = await launch();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    await page.locator('#errors:not([hidden])').waitFor();
    expect(await page.locator('#error-lines').textContent()).toMatch(/^videos\.yaml:4:\d+: invalid YAML/);
    expect(await page.locator('#errors-title').textContent()).toMatch(/nothing is applied until it is valid/);
    expect(await page.locator('article.card').count()).toBe(0);
    await page.evaluate('window.__noReload = true');

    await fs.writeFile(path.join(dir, 'videos.yaml'), twoClipManifest('A red kite over a beach.', 'A blue boat at anchor.'));
    await w.waitFor(IDLE, at + 1);
    await page.locator('#errors[hidden]').waitFor({ state: 'attached' });
    await page.locator('article.card[data-target="beta"] .status', { hasText: 'done' }).waitFor();
    expect(await page.locator('article.card').count()).toBe(2);
    expect(await page.locator('#backend').textContent()).toBe('emulator (free)');
    expect(await page.evaluate('window.__noReload')).toBe(true);

    expect(pageErrors).toEqual([]);
    expect(await w.quit()).toBe(0);
  });
});
