// "Try connecting": the one-click round trip of an integration, under "Test this integration".
// The button creates a trial (POST …/trial) and sends this browser through the real authorize →
// provider → callback round trip; the callback brings it back to #/admin?trial=<id>, where the
// trial's checks are shown (polled while the browser has not come back yet).
import { api, enc } from './api.js';
import { h, banner, busy, isDataConnector } from './ui.js';

const STATUS_TEXT = { pass: 'passed', fail: 'failed', warn: 'warning', skip: 'skipped' };
const STATUS_ICON = { pass: '✓', fail: '✗', warn: '!', skip: '–' };
const POLL_MS = 3000;
// Which integration a trial belongs to, so the page it returns to asks only that one.
const STORAGE_PREFIX = 'kb-trial-';
// The last trial started per integration: an administrator who comes back by hand from the
// provider's error page (which never sends the browser back) sees that trial and its fixes.
const LAST_PREFIX = 'kb-last-trial-';

function trialFromHash() {
  const query = location.hash.split('?')[1] || '';
  return new URLSearchParams(query).get('trial');
}

function trialChecks(provider, trial) {
  const failed = trial.checks.filter((c) => c.status === 'fail').length;
  const headline = trial.state === 'waiting'
    ? (failed ? 'The browser has not come back from the provider.' : 'Waiting for the browser to come back…')
    : failed ? `Round trip failed: ${failed} problem${failed === 1 ? '' : 's'}.` : 'Round trip passed.';
  const ok = trial.state === 'done' && !failed;
  return h('div', { class: `check-result ${ok ? 'ok' : 'bad'}`, id: `trial-${provider.id}`, dataset: { state: trial.state } },
    h('p', { class: 'headline', id: `trial-summary-${provider.id}` }, headline),
    h('ul', { class: 'checklist' }, trial.checks.map((c) => h('li', { class: `check-item ${c.status}`, dataset: { check: c.id, status: c.status } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, STATUS_ICON[c.status] || '?'),
      h('div', {},
        h('strong', {}, c.title), h('span', { class: 'sr-only' }, ` — ${STATUS_TEXT[c.status] || c.status}`),
        c.detail ? h('p', { class: 'detail' }, c.detail) : null,
        c.fix && c.status !== 'pass' ? h('p', { class: 'fix' }, h('strong', {}, 'How to fix: '), c.fix) : null)))));
}

// Shows trial `id` of `provider` in `slot`, polling while it waits and the slot is on the page.
async function showTrial(provider, id, slot, quietIfMissing) {
  let trial;
  try {
    trial = await api('GET', `/api/data/oauth2/providers/${enc(provider.id)}/trial/${enc(id)}`);
  } catch (e) {
    if (!quietIfMissing) slot.replaceChildren(banner('error', e.message));
    return;
  }
  slot.replaceChildren(trialChecks(provider, trial));
  if (trial.state === 'waiting') {
    setTimeout(() => { if (slot.isConnected) showTrial(provider, id, slot, false); }, POLL_MS);
  }
}

async function start(provider, repository, keep, button, slot) {
  await busy(button, async () => {
    try {
      const body = { keep: keep.checked };
      if (repository.value.trim()) body.repository_url = repository.value.trim();
      const trial = await api('POST', `/api/data/oauth2/providers/${enc(provider.id)}/trial`, body);
      try {
        sessionStorage.setItem(STORAGE_PREFIX + trial.id, provider.id);
        sessionStorage.setItem(LAST_PREFIX + provider.id, trial.id);
      } catch { /* private mode */ }
      location.assign(trial.authorize_url);
    } catch (e) {
      slot.replaceChildren(banner('error', e.message));
    }
  });
}

// The "Try connecting" controls of one integration's card, and its trial's checks when the page
// was opened at #/admin?trial=<id>.
export function roundTrip(provider) {
  const slot = h('div', { class: 'trial-slot', id: `trial-slot-${provider.id}`, 'aria-live': 'polite' });
  const repository = h('input', { id: `trial-repository-${provider.id}`, type: 'url', spellcheck: 'false', placeholder: 'https://…/group/project' });
  const keep = h('input', { type: 'checkbox', id: `trial-keep-${provider.id}` });
  const button = h('button', { type: 'button', class: 'secondary small', id: `try-${provider.id}` }, 'Try connecting');
  button.addEventListener('click', () => start(provider, repository, keep, button, slot));
  const box = h('fieldset', { class: 'round-trip', id: `round-trip-${provider.id}` },
    h('legend', {}, 'Try connecting: one real sign-in at the provider and back'),
    // Data connectors and OpenID Connect platforms serve no repositories.
    isDataConnector(provider) || provider.kind === 'generic_oidc' ? null
      : [h('label', { for: repository.id }, 'Repository URL to read with the token (optional)'), repository],
    h('label', { class: 'check' }, keep, ' Keep the connection (otherwise its tokens are revoked)'),
    h('div', { class: 'actions' }, button));
  const id = trialFromHash();
  if (id) {
    let owner = null;
    try { owner = sessionStorage.getItem(STORAGE_PREFIX + id); } catch { owner = null; }
    if (owner === null || owner === provider.id) {
      showTrial(provider, id, slot, owner === null);
    }
  } else {
    let last = null;
    try { last = sessionStorage.getItem(LAST_PREFIX + provider.id); } catch { last = null; }
    if (last) showTrial(provider, last, slot, true);
  }
  return h('div', { class: 'round-trip-wrap' }, box, slot);
}
