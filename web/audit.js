// Audit (administrators): who got which token when, and who changed what, from GET /api/data/audit
// (newest first), filtered by user, integration, kind and time. Tokens never appear: only their
// fingerprints (the first 12 hex digits of the token's SHA-256).
import { api, enc } from './api.js';
import { h, banner, busy, formatTime } from './ui.js';

const KINDS = ['token-handout', 'integration-created', 'integration-updated', 'integration-deleted',
  'connected', 'disconnected', 'refresh-failed', 'signed-in', 'session-token-created', 'session-token-revoked'];
const PER_PAGE = 50;

function query(filters, page) {
  const params = [`page=${page}`, `per_page=${PER_PAGE}`];
  if (filters.user) params.push(`user=${enc(filters.user)}`);
  if (filters.provider) params.push(`provider=${enc(filters.provider)}`);
  if (filters.kind) params.push(`kind=${enc(filters.kind)}`);
  // datetime-local is the browser's local time; the API takes RFC 3339.
  if (filters.since) params.push(`since=${enc(new Date(filters.since).toISOString())}`);
  if (filters.until) params.push(`until=${enc(new Date(filters.until).toISOString())}`);
  return `/api/data/audit?${params.join('&')}`;
}

function changesText(changes) {
  if (!changes || typeof changes !== 'object') return '';
  return Object.entries(changes).map(([field, value]) =>
    (value && typeof value === 'object' && 'before' in value)
      ? `${field}: ${value.before ?? '—'} → ${value.after ?? '—'}`
      : `${field}: ${value}`).join('; ');
}

function eventTable(events, names) {
  if (!events.length) return h('p', { class: 'muted', id: 'audit-empty' }, 'No events match.');
  const rows = events.map((e) => h('tr', { dataset: { kind: e.kind, consumer: e.consumer } },
    h('td', { 'data-label': 'Time' }, formatTime(e.time)),
    h('td', { 'data-label': 'Event' }, e.kind),
    h('td', { 'data-label': 'User' }, e.user),
    h('td', { 'data-label': 'Caller' }, e.caller_kind + (e.session_token_id ? ` (${e.session_token_id})` : '')),
    h('td', { 'data-label': 'Through' }, e.consumer),
    h('td', { 'data-label': 'Integration' }, names.get(e.provider_id) || e.provider_id),
    h('td', { 'data-label': 'Repository or image' }, e.target),
    h('td', { 'data-label': 'Token' }, e.token_fingerprint ? h('code', {}, e.token_fingerprint) : ''),
    h('td', { 'data-label': 'Changes' }, changesText(e.changes))));
  return h('table', { class: 'table', id: 'audit-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Event', 'User', 'Caller', 'Through', 'Integration',
      'Repository or image', 'Token', 'Changes'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
}

export async function renderAudit(section) {
  section.append(h('h1', {}, 'Audit'),
    h('p', { class: 'muted' }, 'Every token Keybridge handed out and every change, newest first. Tokens are shown only as fingerprints.'));
  const providers = await api('GET', '/api/data/oauth2/providers');
  const names = new Map(providers.map((p) => [p.id, p.display_name]));
  const user = h('input', { id: 'audit-user', name: 'user', placeholder: 'user id' });
  const provider = h('select', { id: 'audit-provider', name: 'provider' },
    h('option', { value: '' }, 'All integrations'),
    providers.map((p) => h('option', { value: p.id }, p.display_name)));
  const kind = h('select', { id: 'audit-kind', name: 'kind' },
    h('option', { value: '' }, 'All events'), KINDS.map((k) => h('option', { value: k }, k)));
  const since = h('input', { id: 'audit-since', name: 'since', type: 'datetime-local' });
  const until = h('input', { id: 'audit-until', name: 'until', type: 'datetime-local' });
  const apply = h('button', { type: 'submit', class: 'primary', id: 'audit-apply' }, 'Show');
  const results = h('div', { id: 'audit-results' });
  const older = h('button', { type: 'button', class: 'secondary', id: 'audit-older' }, 'Older');
  const newer = h('button', { type: 'button', class: 'secondary', id: 'audit-newer' }, 'Newer');
  let page = 1;
  const show = (button) => busy(button, load).catch((error) => results.replaceChildren(banner('error', error.message)));
  const load = async () => {
    const filters = { user: user.value.trim(), provider: provider.value, kind: kind.value, since: since.value, until: until.value };
    const events = await api('GET', query(filters, page));
    results.replaceChildren(eventTable(events, names));
    newer.hidden = page === 1;
    older.hidden = events.length < PER_PAGE;
  };
  const form = h('form', { class: 'stack', id: 'audit-filters' },
    h('label', { for: 'audit-user' }, 'User'), user,
    h('label', { for: 'audit-provider' }, 'Integration'), provider,
    h('label', { for: 'audit-kind' }, 'Event'), kind,
    h('label', { for: 'audit-since' }, 'From'), since,
    h('label', { for: 'audit-until' }, 'Until'), until,
    h('div', { class: 'actions' }, apply));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    page = 1;
    show(apply);
  });
  older.addEventListener('click', () => { page += 1; show(older); });
  newer.addEventListener('click', () => { page = Math.max(1, page - 1); show(newer); });
  section.append(h('section', { class: 'card', 'aria-labelledby': 'audit-filter-title' },
    h('h2', { id: 'audit-filter-title' }, 'Filter'), form));
  section.append(h('section', { class: 'card', 'aria-labelledby': 'audit-events-title' },
    h('h2', { id: 'audit-events-title' }, 'Events'), results, h('div', { class: 'actions' }, newer, older)));
  await load();
}
