// Session tokens: list, create (name, lifetime, connections, repositories, images), revoke; and the
// git lines a session runs to use them.
import { api, enc } from './api.js';
import { h, banner, busy, codeLine, confirmAction, notify, formatTime } from './ui.js';

const HELPER_LINES = [
  "git config --global credential.helper '!keybridge git-credential'",
  'git config --global credential.useHttpPath true',
];

function proxyLine(provider) {
  const base = provider.url.endsWith('/') ? provider.url : `${provider.url}/`;
  return `git config --global url."http://127.0.0.1:65480/${provider.id}/".insteadOf "${base}"`;
}

function gitSetup(providers) {
  // Only GitLab and GitHub serve repositories; OpenID Connect and data connectors never do.
  const gitProviders = providers.filter((p) => p.kind === 'gitlab' || p.kind === 'github');
  return h('section', { class: 'card', 'aria-labelledby': 'git-setup-title', id: 'git-setup' },
    h('h2', { id: 'git-setup-title' }, 'Use a token in a session'),
    h('p', {}, 'Set ', h('code', {}, 'KEYBRIDGE_TOKEN'), ' to the session token and ', h('code', {}, 'KEYBRIDGE_URL'),
      ` to ${location.origin} in the session, then either let git ask Keybridge for credentials:`),
    HELPER_LINES.map((line) => codeLine(line)),
    h('p', {}, 'or run the Keybridge git proxy in the session and send git through it (one line per integration):'),
    codeLine('keybridge git-proxy --listen 127.0.0.1:65480 &'),
    gitProviders.length
      ? gitProviders.map((p) => codeLine(proxyLine(p), { dataset: { provider: p.id } }))
      : h('p', { class: 'muted' }, 'No git integrations are set up yet.'));
}

function createForm(connections, providers, onCreated) {
  const names = new Map(providers.map((p) => [p.id, p.display_name]));
  const usable = connections.filter((c) => c.status === 'connected');
  const error = h('div');
  const name = h('input', { id: 'token-name', name: 'session_name', required: true, maxlength: 200, placeholder: 'e.g. my-analysis-session' });
  const ttl = h('select', { id: 'token-ttl', name: 'ttl' },
    h('option', { value: 3600 }, '1 hour'),
    h('option', { value: 43200, selected: true }, '12 hours'),
    h('option', { value: 86400 }, '1 day'),
    h('option', { value: 604800 }, '7 days'));
  const boxes = usable.map((c) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'connection', value: c.id, id: `token-conn-${c.provider_id}` }),
    ` ${names.get(c.provider_id) || c.provider_id}`));
  const repos = h('textarea', { id: 'token-repos', rows: 3, placeholder: 'https://gitlab.example.org/group/project', 'aria-describedby': 'token-repos-help' });
  const images = h('textarea', { id: 'token-images', rows: 2, spellcheck: 'false', placeholder: 'registry.gitlab.example.org/group', 'aria-describedby': 'token-images-help' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'token-create' }, 'Create token');
  const form = h('form', { class: 'stack', id: 'token-form' },
    h('label', { for: 'token-name' }, 'Session name'), name,
    h('label', { for: 'token-ttl' }, 'Lifetime'), ttl,
    h('fieldset', {}, h('legend', {}, 'Connections the session may use'),
      boxes.length ? boxes : h('p', { class: 'muted' }, 'You have no working connections yet; connect an integration first, or list repositories below.')),
    h('label', { for: 'token-repos' }, 'Repositories (one URL per line)'), repos,
    h('p', { class: 'help', id: 'token-repos-help' }, 'The session may use the connection of the integration that serves each repository. Give connections, repositories or both.'),
    h('label', { for: 'token-images' }, 'Container images (one registry or registry/path per line)'), images,
    h('p', { class: 'help', id: 'token-images-help' }, 'The session may check these images and get pull credentials for them, with your connection to the integration that serves the registry.'),
    error, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.replaceChildren();
    const body = {
      session_name: name.value.trim(),
      ttl_seconds: Number(ttl.value),
      connection_ids: [...form.querySelectorAll('input[name=connection]:checked')].map((b) => b.value),
      repository_urls: repos.value.split('\n').map((s) => s.trim()).filter(Boolean),
      image_repositories: images.value.split('\n').map((s) => s.trim()).filter(Boolean),
    };
    if (!body.session_name) {
      error.append(banner('error', 'Give the session a name.'));
      name.focus();
      return;
    }
    if (!body.connection_ids.length && !body.repository_urls.length && !body.image_repositories.length) {
      error.append(banner('error', 'Choose at least one connection, repository or image.'));
      return;
    }
    busy(submit, async () => {
      try {
        onCreated(await api('POST', '/api/data/sessions/tokens', body));
      } catch (e) {
        error.append(banner('error', e.message));
      }
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'token-new-title' }, h('h2', { id: 'token-new-title' }, 'New session token'), form);
}

function createdBox(created) {
  return h('section', { class: 'card highlight', id: 'token-created', tabindex: '-1', 'aria-labelledby': 'token-created-title' },
    h('h2', { id: 'token-created-title' }, `Token for ${created.session_name}`),
    h('p', {}, 'Copy it now: Keybridge keeps only a hash and cannot show it again.'),
    codeLine(created.token, { id: 'token-value' }),
    h('p', {}, 'In the session:'),
    codeLine(`export KEYBRIDGE_TOKEN=${created.token}`, { id: 'token-export' }),
    (created.git_config || HELPER_LINES).map((line) => codeLine(line)));
}

function tokenTable(tokens, names, ctx) {
  if (!tokens.length) {
    return h('div', { class: 'empty', id: 'tokens-empty' }, h('p', {}, 'You have no session tokens yet.'));
  }
  const rows = tokens.slice().reverse().map((t) => {
    const scope = [...t.connection_ids.map((id) => names.get(id) || id), ...t.repository_urls, ...(t.image_repositories || [])];
    let action = null;
    if (t.status === 'active') {
      action = h('button', { type: 'button', class: 'secondary small danger-text', id: `revoke-${t.id}` }, 'Revoke');
      action.addEventListener('click', async () => {
        if (!(await confirmAction(`Revoke ${t.session_name}?`, 'The session stops getting tokens at once.', 'Revoke'))) return;
        await busy(action, async () => {
          try {
            await api('DELETE', `/api/data/sessions/tokens/${enc(t.id)}`);
            notify('Token revoked.');
            ctx.refresh();
          } catch (e) {
            notify(e.message);
          }
        });
      });
    }
    return h('tr', { id: `token-${t.id}` },
      h('td', { 'data-label': 'Session' }, t.session_name),
      h('td', { 'data-label': 'Status' }, h('span', { class: `badge ${t.status === 'active' ? 'ok' : 'neutral'}` }, t.status)),
      h('td', { 'data-label': 'Scope' }, scope.join(', ')),
      h('td', { 'data-label': 'Expires' }, formatTime(t.expires_at)),
      h('td', { 'data-label': '' }, action));
  });
  return h('table', { class: 'table', id: 'tokens-table' },
    h('thead', {}, h('tr', {}, ['Session', 'Status', 'Scope', 'Expires', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
}

export async function renderTokens(section, ctx) {
  section.append(h('h1', {}, 'Session tokens'),
    h('p', { class: 'muted' }, 'A session token lets one session (a notebook, a CI job) get fresh tokens for chosen connections — nothing else.'));
  const [tokens, connections, providers] = await Promise.all([
    api('GET', '/api/data/sessions/tokens'),
    api('GET', '/api/data/oauth2/connections'),
    api('GET', '/api/data/oauth2/providers'),
  ]);
  const providerNames = new Map(providers.map((p) => [p.id, p.display_name]));
  const names = new Map(connections.map((c) => [c.id, providerNames.get(c.provider_id) || c.provider_id]));
  const createdSlot = h('div');
  section.append(createdSlot);
  section.append(createForm(connections, providers, (created) => {
    ctx.refresh().then(() => {
      const slot = document.querySelector('#page-tokens > div');
      if (slot) {
        slot.append(createdBox(created));
        document.getElementById('token-created').focus();
      }
    });
  }));
  section.append(h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'Your tokens'), tokenTable(tokens, names, ctx)));
  section.append(gitSetup(providers));
}
