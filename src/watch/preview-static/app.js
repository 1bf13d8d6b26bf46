// The preview page: renders the PreviewSnapshot the watch session sends over
// Server-Sent Events. Cards are keyed by target name and updated in place, so
// a playing video is not restarted by a progress tick; a <video> only gets a
// new src when the file behind it changed. No framework, no build step.
'use strict';

const cardsEl = document.getElementById('cards');
const template = document.getElementById('card-template');
const cards = new Map();
const WORKING = new Set(['pending', 'submitting', 'queued', 'in_progress', 'downloading']);
let lastRevision = -1;

function usd(n) {
  return `$${n.toFixed(2)}`;
}

/** `720x1280` → `720 / 1280`, for CSS aspect-ratio; null when the size is not WIDTHxHEIGHT. */
function aspectOf(size) {
  const m = /^(\d+)x(\d+)$/.exec(size || '');
  return m ? `${m[1]} / ${m[2]}` : null;
}

/** A tile shows its placeholder (`.loading`) until the video has a frame to show. */
function markLoading(box, video) {
  box.classList.add('loading');
  video.addEventListener('loadeddata', () => box.classList.remove('loading'), { once: true });
  video.addEventListener('error', () => box.classList.remove('loading'), { once: true });
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function setVideo(video, media) {
  const src = media ? media.url : '';
  const poster = media && media.poster ? media.poster : '';
  if (video.dataset.src !== src) {
    video.dataset.src = src;
    if (src) {
      markLoading(video.parentElement, video);
      video.src = src;
    } else {
      video.removeAttribute('src');
    }
    video.load();
  }
  if (video.dataset.poster !== poster) {
    video.dataset.poster = poster;
    if (poster) video.poster = poster;
    else video.removeAttribute('poster');
  }
}

function renderHistory(container, history) {
  const key = history.map((v) => `${v.fingerprint}:${v.current}:${v.video ? v.video.url : ''}:${v.differs || ''}`).join('|');
  if (container.dataset.key === key) return;
  container.dataset.key = key;
  container.replaceChildren(
    ...history.map((v) => {
      const fig = document.createElement('figure');
      fig.className = v.current ? 'version current-version' : 'version';
      fig.dataset.fingerprint = v.fingerprint;
      if (v.video) {
        const video = document.createElement('video');
        video.muted = true;
        video.loop = true;
        video.playsInline = true;
        video.preload = 'metadata';
        video.title = 'hover to play, click for full controls';
        if (v.video.poster) video.poster = v.video.poster;
        const ratio = aspectOf(v.size);
        if (ratio) video.style.aspectRatio = ratio;
        markLoading(fig, video);
        video.src = v.video.url;
        // Play on hover so a row of versions does not decode all at once.
        fig.addEventListener('mouseenter', () => void video.play().catch(() => {}));
        fig.addEventListener('mouseleave', () => video.pause());
        video.addEventListener('click', () => {
          video.controls = true;
        });
        fig.append(video);
      }
      const cap = document.createElement('figcaption');
      const when = document.createElement('span');
      when.className = 'dim';
      when.textContent = `${v.current ? 'current · ' : ''}${new Date(v.createdAt).toLocaleString()}`;
      const prompt = document.createElement('span');
      prompt.className = 'version-prompt';
      prompt.textContent = v.prompt;
      cap.append(when, prompt);
      if (v.differs) {
        const differs = document.createElement('span');
        differs.className = 'version-differs dim';
        differs.textContent = v.differs;
        cap.append(differs);
      }
      fig.append(cap);
      return fig;
    }),
  );
}

function renderCard(c) {
  let el = cards.get(c.name);
  if (!el) {
    el = template.content.firstElementChild.cloneNode(true);
    el.dataset.target = c.name;
    cards.set(c.name, el);
  }
  el.dataset.status = c.status;
  setText(el.querySelector('.name'), c.name);
  setText(el.querySelector('.kind'), c.kind);
  setText(el.querySelector('.source'), c.source ? `from ${c.source}` : '');
  const status = el.querySelector('.status');
  setText(status, c.status.replace('_', ' '));
  status.className = `status pill st-${c.status}`;
  const bar = el.querySelector('.bar');
  const running = c.progress !== null;
  bar.hidden = !running;
  bar.setAttribute('aria-valuenow', String(c.progress ?? 0));
  bar.querySelector('.fill').style.width = `${c.progress ?? 0}%`;
  setText(el.querySelector('.percent'), running ? `${Math.round(c.progress)}%` : '');
  const error = el.querySelector('.error');
  error.hidden = c.error === null;
  setText(error, c.error ?? '');
  // A portrait clip gets a portrait box, not black bars in a landscape one.
  const player = el.querySelector('.player');
  const ratio = aspectOf(c.size);
  if (ratio && player.style.aspectRatio !== ratio) player.style.aspectRatio = ratio;
  player.classList.toggle('portrait', /^(\d+)x(\d+)$/.test(c.size) && Number(c.size.split('x')[1]) > Number(c.size.split('x')[0]));
  setVideo(el.querySelector('video.current'), c.video);
  el.querySelector('.no-video').hidden = c.video !== null;
  // While a new version is on its way, the player still shows the last one: say so.
  el.querySelector('.stale').hidden = !(c.video !== null && WORKING.has(c.status));
  setText(el.querySelector('.prompt'), c.prompt);
  setText(el.querySelector('.specs'), `${c.model} · ${c.size} · ${c.seconds}s`);
  setText(el.querySelector('.cost'), c.cost === null ? '$? per generation (no known price)' : `${usd(c.cost)} per generation`);
  // The plan's reason says why a job was needed; once it is done, that is history.
  setText(
    el.querySelector('.reason'),
    c.status === 'done' ? 'done' : c.status === 'up-to-date' || c.action === 'unchanged' ? 'up to date' : `${c.action}: ${c.reason}`,
  );
  setText(el.querySelector('.history-count'), String(c.history.length));
  renderHistory(el.querySelector('.history'), c.history);
  return el;
}

function render(s) {
  if (s.revision <= lastRevision) return;
  lastRevision = s.revision;
  document.body.dataset.revision = String(s.revision);
  setText(document.getElementById('manifest'), s.manifest);
  const phase = document.getElementById('phase');
  setText(phase, s.phase);
  phase.className = `pill ph-${s.phase}`;
  // On the emulator nothing is billed: what would have been spent, not "spent".
  const budget = s.maxCost === null ? '' : ` of ${usd(s.maxCost)}`;
  setText(
    document.getElementById('spent'),
    s.free ? `${usd(s.spent)}${budget} at API prices, not billed` : `spent ${usd(s.spent)}${budget} (estimate)`,
  );
  setText(document.getElementById('backend'), s.backend);
  const errors = document.getElementById('errors');
  errors.hidden = s.errors.length === 0;
  // Before the first valid manifest there is no last good state to show.
  setText(
    document.getElementById('errors-title'),
    s.phase === 'starting'
      ? 'The manifest is invalid: nothing is applied until it is valid'
      : 'The manifest is invalid, showing the last good state',
  );
  setText(document.getElementById('error-lines'), s.errors.join('\n'));
  const notice = document.getElementById('notice');
  notice.hidden = s.notice === null;
  setText(notice, s.notice ?? '');

  const wanted = s.cards.map(renderCard);
  const names = new Set(s.cards.map((c) => c.name));
  for (const [name, el] of cards) {
    if (!names.has(name)) {
      el.remove();
      cards.delete(name);
    }
  }
  // Keep manifest order without touching nodes already in place.
  wanted.forEach((el, i) => {
    if (cardsEl.children[i] !== el) cardsEl.insertBefore(el, cardsEl.children[i] ?? null);
  });
}

function connect() {
  const conn = document.getElementById('connection');
  const source = new EventSource('/events');
  source.addEventListener('open', () => {
    setText(conn, 'live');
    conn.className = 'pill conn-up';
  });
  source.addEventListener('state', (e) => render(JSON.parse(e.data)));
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (the server sets `retry`); a new
    // connection starts with a full snapshot, so nothing is lost meanwhile.
    setText(conn, 'reconnecting…');
    conn.className = 'pill conn-down';
    lastRevision = -1;
  });
}

connect();
