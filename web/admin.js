// The admin panel: integrations (list, create, edit, delete), per-kind help, the callback URL to
// register at the provider, the write-only client secret, "Test this integration", and the form's
// own checks: the scopes as they are typed, and every check before saving.
import { api, ApiError, enc } from './api.js';
import { h, banner, busy, clear, codeLine, confirmAction, notify, kindLabel, isGitHubEnterprise } from './ui.js';
import { roundTrip } from './round_trip.js';

const GITLAB_SCOPES = 'read_api read_repository write_repository read_registry';
const DROPBOX_SCOPES = 'account_info.read files.metadata.read files.content.read files.content.write';
const GOOGLE_SCOPES = 'openid email https://www.googleapis.com/auth/drive';
const ZENODO_SCOPES = 'deposit:write deposit:actions';

// UI kinds: GitHub Enterprise is the GitHub kind with the server's URL.
const KINDS = {
  gitlab: {
    label: 'GitLab', apiKind: 'gitlab', url: 'https://gitlab.com', scope: GITLAB_SCOPES, pkce: true,
    help: [
      'In GitLab, open Edit profile → Applications (or Admin area → Applications for an instance-wide application) and add a new application.',
      'Redirect URI: the callback URL shown above, exactly. Confidential: yes.',
      `Scopes: ${GITLAB_SCOPES} (prefilled below).`,
      'URL: your GitLab, including its path if GitLab runs under one (e.g. https://example.org/gitlab).',
      'Copy the Application ID into Client ID and the Secret into Client secret.',
    ],
  },
  github: {
    label: 'GitHub', apiKind: 'github', url: 'https://github.com', scope: '', pkce: false,
    help: [
      'Create a GitHub App: Settings → Developer settings → GitHub Apps → New GitHub App.',
      'Callback URL: the callback URL shown above, exactly. Keep "Expire user authorization tokens" on.',
      'Application slug: the last part of the App\'s public page, https://github.com/apps/<slug> — a typo here breaks the install link.',
      'Client ID is on the App\'s page (not the numeric App ID); generate a client secret there.',
      'Scope stays empty: a GitHub App\'s permissions are set on the App itself.',
    ],
  },
  github_enterprise: {
    label: 'GitHub Enterprise Server', apiKind: 'github', url: 'https://github.example.org', scope: '', pkce: false,
    help: [
      'Same as GitHub, on your own server: choose kind GitHub with your server\'s URL (e.g. https://github.example.org).',
      'Create the GitHub App under Settings → Developer settings → GitHub Apps on that server; the slug is in https://<server>/github-apps/<slug>.',
      'Callback URL: the callback URL shown above, exactly.',
    ],
  },
  generic_oidc: {
    label: 'OpenID Connect', apiKind: 'generic_oidc', url: '', scope: 'openid profile email', pkce: true,
    help: [
      'Register a confidential client at your OpenID provider with the callback URL shown above as its redirect URI.',
      'Issuer URL: the provider\'s issuer (its /.well-known/openid-configuration must answer).',
    ],
  },
  // Data connectors: sessions mount data or publish with these tokens; no repositories, no images.
  dropbox: {
    label: 'Dropbox', apiKind: 'dropbox', url: 'https://www.dropbox.com', scope: DROPBOX_SCOPES, pkce: true, fixedUrl: true, data: true,
    help: [
      'In the Dropbox App Console (https://www.dropbox.com/developers/apps), create an app with scoped access.',
      'Settings → OAuth 2 → Redirect URIs: add the callback URL shown above, exactly.',
      `Permissions: tick ${DROPBOX_SCOPES} and submit; the same scopes are prefilled below.`,
      'Copy the App key into Client ID and the App secret into Client secret.',
      'URL stays https://www.dropbox.com: Dropbox\'s endpoints are fixed.',
    ],
  },
  google: {
    label: 'Google Drive', apiKind: 'google', url: 'https://accounts.google.com', scope: GOOGLE_SCOPES, pkce: true, fixedUrl: true, data: true,
    help: [
      'In the Google Cloud Console, enable the Google Drive API and set up the OAuth consent screen.',
      'APIs & Services → Credentials → Create credentials → OAuth client ID, application type "Web application".',
      'Authorized redirect URIs: add the callback URL shown above, exactly.',
      `Scopes: ${GOOGLE_SCOPES} (prefilled below).`,
      'Copy the Client ID and the Client secret. URL stays https://accounts.google.com: Google\'s endpoints are fixed.',
    ],
  },
  zenodo: {
    label: 'Zenodo', apiKind: 'zenodo', url: 'https://zenodo.org', scope: ZENODO_SCOPES, pkce: false, data: true,
    help: [
      'In Zenodo, open your account\'s Applications → Developer applications → New application.',
      'Redirect URIs: the callback URL shown above, exactly. Client type: Confidential.',
      `Scopes: ${ZENODO_SCOPES} (prefilled below).`,
      'URL: https://zenodo.org, https://sandbox.zenodo.org for the sandbox, or the address of your InvenioRDM.',
      'Copy the Client ID and the Client Secret.',
    ],
  },
};

// How long the scope field waits after the last keystroke before asking the server.
const SCOPE_CHECK_DELAY_MS = 400;
const DRAFT_CHECK = '/api/data/oauth2/providers/check';

const URL_HELP = 'The provider\'s base URL: https, no query or fragment.';
const FIXED_URL_HELP = (k) => `Only ${k.url} is accepted (leave it as it is), or a local stand-in `
  + 'for tests on http://127.0.0.1:PORT or http://localhost:PORT.';

function uiKind(provider) {
  return isGitHubEnterprise(provider) ? 'github_enterprise' : provider.kind;
}

function field(id, label, input, help) {
  return h('div', { class: 'field', id: `field-${id}` },
    h('label', { for: id }, label), input,
    help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
}

function integrationForm(existing, ctx, onDone) {
  const editing = !!existing;
  let kind = editing ? uiKind(existing) : 'gitlab';
  const value = (k, fallback = '') => (editing && existing[k] !== undefined ? existing[k] : fallback);

  const kindSelect = h('select', { id: 'f-kind', name: 'kind' },
    Object.entries(KINDS).map(([k, v]) => h('option', { value: k, selected: k === kind }, v.label)));
  const id = h('input', { id: 'f-id', name: 'id', required: true, maxlength: 99, value: value('id'), disabled: editing, 'aria-describedby': 'f-id-help', spellcheck: 'false' });
  const name = h('input', { id: 'f-display-name', name: 'display_name', required: true, maxlength: 99, value: value('display_name', KINDS[kind].label) });
  const url = h('input', { id: 'f-url', name: 'url', type: 'url', required: true, value: value('url', KINDS[kind].url), 'aria-describedby': 'f-url-help', spellcheck: 'false' });
  const clientId = h('input', { id: 'f-client-id', name: 'client_id', required: true, maxlength: 500, value: value('client_id'), spellcheck: 'false', autocomplete: 'off' });
  const secretSet = editing && existing.client_secret === 'redacted';
  const secret = h('input', { id: 'f-client-secret', name: 'client_secret', type: 'password', autocomplete: 'new-password', spellcheck: 'false',
    placeholder: secretSet ? 'A secret is set — type a new one to replace it' : '', 'aria-describedby': 'f-client-secret-help' });
  const removeSecret = h('input', { type: 'checkbox', id: 'f-remove-secret' });
  const scope = h('input', { id: 'f-scope', name: 'scope', value: value('scope', KINDS[kind].scope), spellcheck: 'false', 'aria-describedby': 'f-scope-help f-scope-check' });
  // The server's "scopes" finding for what is typed (POST .../check?only=scopes): a misspelled
  // scope is otherwise only reported by the provider to the first user who connects.
  const scopeCheck = h('div', { id: 'f-scope-check', class: 'scope-check', role: 'status', 'aria-live': 'polite' });
  const slug = h('input', { id: 'f-app-slug', name: 'app_slug', value: value('app_slug'), spellcheck: 'false', 'aria-describedby': 'f-app-slug-help' });
  const pkce = h('input', { type: 'checkbox', id: 'f-use-pkce', checked: value('use_pkce', KINDS[kind].pkce) });
  const registry = h('input', { id: 'f-image-registry-url', type: 'url', value: value('image_registry_url'), spellcheck: 'false' });
  const issuer = h('input', { id: 'f-oidc-issuer-url', type: 'url', value: value('oidc_issuer_url'), spellcheck: 'false' });

  const helpBox = h('div', { class: 'kind-help', id: 'kind-help', 'aria-live': 'polite' });
  const slugField = field('f-app-slug', 'Application slug', slug, 'From https://github.com/apps/<slug> (GitHub Apps).');
  const issuerField = field('f-oidc-issuer-url', 'Issuer URL', issuer, 'Required for OpenID Connect.');
  const urlField = field('f-url', 'URL', url, URL_HELP);
  const registryField = field('f-image-registry-url', 'Image registry URL (optional)', registry,
    'Lets sessions pull private container images with the user\'s token. GitLab: its container registry\'s host, e.g. https://registry.gitlab.com (add read_registry to the scope). GitHub: ghcr.io needs a GitHub OAuth App integration (no app slug) with https://ghcr.io here and the scope read:packages (plus repo for code); GitHub App tokens are not accepted by ghcr.io.');
  const error = h('div', { id: 'form-error' });
  // What the check before saving found, with "Save anyway" and "Fix it".
  const problems = h('div', { id: 'save-problems' });
  // Issue #12: changing where the secret and the users' tokens go needs a new secret and makes
  // every user reconnect; the server enforces it (422), the form says so before the admin saves.
  const retargetNote = h('div', { id: 'retarget-warning', 'aria-live': 'polite' });
  let connectionCount;  // undefined: not asked yet; null: unknown
  async function usersToReconnect() {
    if (connectionCount === undefined) {
      try {
        connectionCount = (await api('GET', `/api/data/oauth2/providers/${enc(existing.id)}`)).connection_count ?? null;
      } catch {
        connectionCount = null;
      }
    }
    return connectionCount === null ? 'Every user connected to it' : `${connectionCount} user${connectionCount === 1 ? '' : 's'}`;
  }
  function retargetedFields() {
    if (!editing) return [];
    const k = KINDS[kind];
    const was = (key) => existing[key] || '';
    const changed = [];
    if (k.apiKind !== existing.kind) changed.push('Kind');
    if (url.value.trim() !== was('url')) changed.push('URL');
    if (clientId.value.trim() !== was('client_id')) changed.push('Client ID');
    if ((k.apiKind === 'generic_oidc' ? issuer.value.trim() : '') !== was('oidc_issuer_url')) changed.push('Issuer URL');
    if ((k.data ? '' : registry.value.trim()) !== was('image_registry_url')) changed.push('Image registry URL');
    return changed;
  }
  async function showRetarget() {
    const changed = retargetedFields();
    if (!changed.length) {
      retargetNote.replaceChildren();
      return;
    }
    const who = await usersToReconnect();
    if (retargetedFields().length === 0) return;  // changed back while we asked
    retargetNote.replaceChildren(banner('warn',
      `Changing ${changed.join(', ')} points this integration somewhere else: a new client secret is required `
      + `(the stored one would be sent to the new destination), and ${who} must reconnect.`));
  }

  function applyKind(newKind, prefill) {
    const previous = KINDS[kind];
    kind = newKind;
    const k = KINDS[kind];
    clear(helpBox).append(h('h3', {}, `Setting up ${k.label}`), h('ol', {}, k.help.map((line) => h('li', {}, line))));
    slugField.hidden = k.apiKind !== 'github';
    issuerField.hidden = k.apiKind !== 'generic_oidc';
    registryField.hidden = !!k.data;
    urlField.querySelector('.help').textContent = k.fixedUrl ? FIXED_URL_HELP(k) : URL_HELP;
    if (prefill) {
      // Only replace values the admin has not changed from the previous kind's defaults.
      if (!url.value || url.value === previous.url) url.value = k.url;
      if (!scope.value || scope.value === previous.scope) scope.value = k.scope;
      if (!name.value || name.value === previous.label) name.value = k.label;
      pkce.checked = k.pkce;
    }
  }
  // The integration as the form holds it: the body of POST/PATCH, plus the id for the check.
  function draftBody() {
    const k = KINDS[kind];
    const body = {
      kind: k.apiKind,
      display_name: name.value.trim(),
      url: url.value.trim(),
      client_id: clientId.value.trim(),
      scope: scope.value.trim().replace(/\s+/g, ' '),
      use_pkce: pkce.checked,
      app_slug: k.apiKind === 'github' ? slug.value.trim() : '',
      image_registry_url: k.data ? '' : registry.value.trim(),
    };
    if (k.apiKind === 'generic_oidc') body.oidc_issuer_url = issuer.value.trim();
    else if (editing && existing.oidc_issuer_url) body.oidc_issuer_url = '';
    if (secret.value) body.client_secret = secret.value;
    else if (editing && removeSecret.checked) body.client_secret = '';
    return body;
  }
  function checkBody(body) {
    // Without client_secret the server checks with the stored one (editing); "" (Remove the
    // stored secret) checks without any.
    const draft = { ...body, id: editing ? existing.id : id.value.trim() };
    if (!draft.id) delete draft.id;
    return draft;
  }

  let scopeTimer = 0;
  let scopeAsked = 0;  // answers to older keystrokes are dropped
  async function checkScopes() {
    const asked = ++scopeAsked;
    let item;
    try {
      const result = await api('POST', `${DRAFT_CHECK}?only=scopes`, checkBody(draftBody()));
      item = result.checks.find((c) => c.id === 'scopes');
    } catch {
      item = null;  // the scope check is a help; saving reports real errors
    }
    if (asked !== scopeAsked) return;
    if (!item || (item.status === 'pass' && !scope.value.trim())) {
      scopeCheck.replaceChildren();
      return;
    }
    scopeCheck.className = `scope-check ${item.status}`;
    scopeCheck.dataset.status = item.status;
    scopeCheck.replaceChildren(
      h('p', { class: 'detail' }, h('span', { 'aria-hidden': 'true' }, `${STATUS_ICON[item.status] || ''} `), item.detail),
      item.fix && item.status !== 'pass' ? h('p', { class: 'fix' }, h('strong', {}, 'How to fix: '), item.fix) : null);
  }
  function scheduleScopeCheck() {
    clearTimeout(scopeTimer);
    scopeTimer = setTimeout(checkScopes, SCOPE_CHECK_DELAY_MS);
  }
  for (const input of [scope, registry, issuer, slug]) input.addEventListener('input', scheduleScopeCheck);

  kindSelect.addEventListener('change', () => {
    applyKind(kindSelect.value, true);
    scheduleScopeCheck();
  });
  applyKind(kind, false);
  if (scope.value.trim()) scheduleScopeCheck();
  if (editing) {
    kindSelect.addEventListener('change', showRetarget);
    for (const input of [url, clientId, issuer, registry]) input.addEventListener('input', showRetarget);
  }

  const submit = h('button', { type: 'submit', class: 'primary', id: 'f-save' }, editing ? 'Save changes' : 'Create integration');
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'f-cancel' }, 'Cancel');
  cancel.addEventListener('click', () => onDone(null));

  const form = h('form', { class: 'card form-grid', id: 'integration-form', novalidate: true, 'aria-labelledby': 'form-title' },
    h('h2', { id: 'form-title' }, editing ? `Edit ${existing.display_name}` : 'New integration'),
    field('f-kind', 'Kind', kindSelect),
    helpBox,
    field('f-id', 'Id', id, editing ? 'The id cannot change (connections and links use it).' : 'Short and stable, e.g. gitlab or github-enterprise; lower-case letters, digits and dashes.'),
    field('f-display-name', 'Display name', name),
    urlField,
    field('f-client-id', 'Client ID', clientId),
    h('div', { class: 'field', id: 'field-f-client-secret' },
      h('label', { for: 'f-client-secret' }, 'Client secret ', h('span', { class: `badge ${secretSet ? 'ok' : 'neutral'}`, id: 'secret-state' }, secretSet ? 'set' : 'not set')),
      secret,
      h('p', { class: 'help', id: 'f-client-secret-help' }, 'Write-only: Keybridge encrypts it and never shows it again.'),
      secretSet ? h('label', { class: 'check' }, removeSecret, ' Remove the stored secret') : null),
    h('div', { class: 'field', id: 'field-f-scope' },
      h('label', { for: 'f-scope' }, 'Scope'), scope,
      h('p', { class: 'help', id: 'f-scope-help' }, 'Space-separated scopes. GitLab: read_api read_repository write_repository read_registry. GitHub Apps: empty.'),
      scopeCheck),
    slugField,
    issuerField,
    registryField,
    h('label', { class: 'check' }, pkce, ' Use PKCE (recommended for GitLab, OpenID Connect, Dropbox and Google)'),
    retargetNote,
    error,
    problems,
    h('div', { class: 'actions' }, cancel, submit));

  // The input to fix for each failed check, for "Fix it".
  const FIELD_OF = {
    base_url: () => url, endpoints: () => (KINDS[kind].apiKind === 'generic_oidc' ? issuer : url),
    client_credentials: () => (secret.value ? secret : clientId), scopes: () => scope,
    app_slug: () => slug, image_registry: () => registry,
  };
  async function save(body) {
    try {
      const saved = editing
        ? await api('PATCH', `/api/data/oauth2/providers/${enc(existing.id)}`, body)
        : await api('POST', '/api/data/oauth2/providers', body);
      onDone(saved, !editing);
    } catch (e) {
      error.append(banner('error', e.message));
      error.scrollIntoView({ block: 'nearest' });
    }
  }
  // Every check runs on the draft first; a failure is shown with its fix and saving stays
  // possible ("Save anyway"), so a broken integration is never saved without the admin seeing why.
  async function checkThenSave(body) {
    let result = null;
    try {
      result = await api('POST', DRAFT_CHECK, checkBody(body));
    } catch {
      result = null;  // an invalid draft or an unreachable check: saving reports the error itself
    }
    const failed = result ? result.checks.filter((c) => c.status === 'fail') : [];
    if (!failed.length) {
      await save(body);
      return;
    }
    const anyway = h('button', { type: 'button', class: 'secondary', id: 'f-save-anyway' }, 'Save anyway');
    const fix = h('button', { type: 'button', class: 'primary', id: 'f-fix' }, 'Fix it');
    anyway.addEventListener('click', () => busy(anyway, async () => {
      problems.replaceChildren();
      await save(body);
    }));
    fix.addEventListener('click', () => {
      problems.replaceChildren();
      (FIELD_OF[failed[0].id] || (() => scope))().focus();
    });
    problems.replaceChildren(
      banner('error', `The check before saving found ${failed.length} problem${failed.length === 1 ? '' : 's'}. Users who connect now would meet them.`),
      checklist({ ...result, provider_id: 'draft', checks: failed, checked_at: null }),
      h('div', { class: 'actions' }, anyway, fix));
    problems.scrollIntoView({ block: 'nearest' });
    fix.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.replaceChildren();
    problems.replaceChildren();
    const body = draftBody();
    if (!editing) {
      body.id = id.value.trim();
      if (!body.image_registry_url) delete body.image_registry_url;
    }
    const missing = [['Id', editing ? 'x' : body.id], ['Display name', body.display_name], ['URL', body.url], ['Client ID', body.client_id]]
      .filter(([, v]) => !v).map(([l]) => l);
    if (missing.length) {
      error.append(banner('error', `Fill in: ${missing.join(', ')}.`));
      return;
    }
    const retargeted = retargetedFields();
    if (retargeted.length && !secret.value) {
      error.append(banner('error', `Changing ${retargeted.join(', ')} requires a new client secret: type the secret of the new registration.`));
      secret.focus();
      return;
    }
    busy(submit, async () => {
      if (retargeted.length) {
        const who = await usersToReconnect();
        const ok = await confirmAction(`Point ${existing.display_name} somewhere else?`,
          `You are changing ${retargeted.join(', ')}. ${who} must reconnect: their tokens are revoked at the old provider and removed.`,
          'Change and disconnect users');
        if (!ok) return;
      }
      await checkThenSave(body);
    });
  });
  return form;
}

const STATUS_TEXT = { pass: 'passed', fail: 'failed', warn: 'warning', skip: 'skipped' };
const STATUS_ICON = { pass: '✓', fail: '✗', warn: '!', skip: '–' };

export function checklist(result) {
  const failures = result.checks.filter((c) => c.status === 'fail').length;
  const warnings = result.checks.filter((c) => c.status === 'warn').length;
  const summary = result.ok
    ? (warnings ? `Works, with ${warnings} warning${warnings > 1 ? 's' : ''}.` : 'All checks passed.')
    : `${failures} problem${failures === 1 ? '' : 's'} found.`;
  return h('div', { class: `check-result ${result.ok ? 'ok' : 'bad'}`, id: `checklist-${result.provider_id}` },
    h('p', { class: 'headline', id: `check-summary-${result.provider_id}` }, summary),
    h('ul', { class: 'checklist' }, result.checks.map((c) => h('li', { class: `check-item ${c.status}`, dataset: { check: c.id, status: c.status } },
      h('span', { class: 'icon', 'aria-hidden': 'true' }, STATUS_ICON[c.status] || '?'),
      h('div', {},
        h('strong', {}, c.title), h('span', { class: 'sr-only' }, ` — ${STATUS_TEXT[c.status] || c.status}`),
        c.detail ? h('p', { class: 'detail' }, c.detail) : null,
        c.fix && c.status !== 'pass'
          ? h('p', { class: 'fix' }, h('strong', {}, c.status === 'skip' ? 'To do: ' : 'How to fix: '), c.fix) : null)))),
    result.checked_at ? h('p', { class: 'muted small' }, `Checked ${new Date(result.checked_at).toLocaleString()}.`) : null);
}

async function runCheck(provider, slot, button) {
  slot.replaceChildren(h('p', { class: 'muted' }, 'Testing…'));
  await busy(button, async () => {
    try {
      const result = await api('POST', `/api/data/oauth2/providers/${enc(provider.id)}/check`);
      slot.replaceChildren(checklist(result));
    } catch (e) {
      slot.replaceChildren(banner('error', e instanceof ApiError && e.status === 404 && /route|not found/i.test(e.message)
        ? 'This Keybridge version cannot test integrations yet.' : e.message));
    }
  });
}

function providerRow(provider, ctx, state) {
  const checkSlot = h('div', { class: 'check-slot', id: `check-${provider.id}`, 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'secondary small', id: `test-${provider.id}` }, 'Test this integration');
  test.addEventListener('click', () => runCheck(provider, checkSlot, test));
  const edit = h('button', { type: 'button', class: 'secondary small', id: `edit-${provider.id}` }, 'Edit');
  edit.addEventListener('click', () => state.edit(provider));
  const del = h('button', { type: 'button', class: 'secondary small danger-text', id: `delete-${provider.id}` }, 'Delete');
  del.addEventListener('click', async () => {
    let count = null;
    try {
      count = (await api('GET', `/api/data/oauth2/providers/${enc(provider.id)}`)).connection_count;
    } catch {
      count = null;
    }
    const who = count === null || count === undefined
      ? 'Every user connection to it will be removed.'
      : count === 0 ? 'No user has connected it yet.'
        : `${count} user connection${count === 1 ? '' : 's'} will be removed; those users must connect again if you add it back.`;
    if (!(await confirmAction(`Delete ${provider.display_name}?`, who, 'Delete integration'))) return;
    await busy(del, async () => {
      try {
        await api('DELETE', `/api/data/oauth2/providers/${enc(provider.id)}`);
        notify(`${provider.display_name} deleted.`);
        ctx.refresh();
      } catch (e) {
        checkSlot.replaceChildren(banner('error', e.message));
      }
    });
  });
  const row = h('article', { class: 'card provider', id: `admin-provider-${provider.id}` },
    h('div', { class: 'card-head' },
      h('div', {},
        h('h3', {}, provider.display_name, ' ', h('span', { class: 'muted small' }, `(${provider.id})`)),
        h('p', { class: 'muted small' }, `${kindLabel(provider)} · `, h('span', { class: 'url' }, provider.url)),
        h('p', { class: 'small' }, 'Client secret: ',
          h('span', { class: `badge ${provider.client_secret === 'redacted' ? 'ok' : 'warn'}` }, provider.client_secret === 'redacted' ? 'set' : 'not set'),
          provider.install_url ? [' · ', h('a', { href: provider.install_url, target: '_blank', rel: 'noopener' }, 'App install page')] : null),
        // The server refuses to edit or delete what an integrations file manages (409).
        provider.managed_by_file ? h('p', { class: 'muted small', id: `managed-${provider.id}` },
          'Managed by the integrations file: change it there and run keybridge integrations apply.') : null),
      h('div', { class: 'actions' }, test, provider.managed_by_file ? null : [edit, del])),
    checkSlot, roundTrip(provider));
  if (state.autoCheck === provider.id) {
    state.autoCheck = null;
    runCheck(provider, checkSlot, test);
  }
  return row;
}

export async function renderAdmin(section, ctx) {
  const providers = await api('GET', '/api/data/oauth2/providers');
  const callback = ctx.methods.oauth_callback_url || `${location.origin}/api/data/oauth2/callback`;
  const formSlot = h('div', { id: 'form-slot' });
  const state = {
    autoCheck: null,
    edit: (provider) => showForm(provider),
  };
  const add = h('button', { type: 'button', class: 'primary', id: 'add-integration' }, 'Add integration');

  function showForm(existing) {
    add.hidden = true;
    formSlot.replaceChildren(integrationForm(existing, ctx, (saved, created) => {
      formSlot.replaceChildren();
      add.hidden = false;
      if (saved) {
        ctx.flash = { kind: 'success', message: created ? `${saved.display_name} created. Testing it now…` : `${saved.display_name} saved.` };
        ctx.adminAutoCheck = created ? saved.id : null;
        ctx.refresh();
      }
    }));
    document.getElementById(existing ? 'f-display-name' : 'f-kind').focus();
  }
  add.addEventListener('click', () => showForm(null));
  state.autoCheck = ctx.adminAutoCheck || null;
  ctx.adminAutoCheck = null;

  section.append(
    h('h1', {}, 'Admin · Integrations'),
    h('section', { class: 'card', 'aria-labelledby': 'callback-title' },
      h('h2', { id: 'callback-title' }, 'Callback URL'),
      h('p', {}, 'Register this exact URL at every provider (GitLab, Dropbox, Zenodo: Redirect URI; GitHub App: Callback URL; Google: Authorized redirect URI):'),
      codeLine(callback, { id: 'callback-url' })),
    h('div', { class: 'toolbar' }, add),
    formSlot);
  const list = h('div', { class: 'cards', id: 'admin-provider-list' });
  if (!providers.length) {
    list.append(h('div', { class: 'empty', id: 'admin-empty' }, h('p', {}, 'No integrations yet. Add GitLab or GitHub so users can connect their accounts.')));
  } else {
    list.append(...providers.map((p) => providerRow(p, ctx, state)));
  }
  section.append(list);
}
