// The Integrations page: every integration with the user's connection status, Connect /
// Reconnect / Disconnect, GitHub App installations, and the repository and image checks.
import { api, enc } from './api.js';
import { h, banner, busy, confirmAction, notify, kindLabel, isDataConnector } from './ui.js';

function isGitHubApp(provider) {
  return provider.kind === 'github' && !!provider.app_slug;
}

function connectUrl(provider) {
  // Back to this page when the provider sends the browser back (same tab).
  const next = `${location.origin}/?view=integrations`;
  return `/api/data/oauth2/providers/${enc(provider.id)}/authorize?next_url=${enc(next)}`;
}

function statusBadge(text, kind, id) {
  return h('span', { class: `badge ${kind}`, id }, text);
}

async function installationsBlock(provider, connection) {
  const box = h('div', { class: 'installations', id: `installations-${provider.id}` });
  let items = [];
  try {
    items = (await api('GET', `/api/data/oauth2/connections/${enc(connection.id)}/installations?per_page=100`)) || [];
  } catch (error) {
    box.append(banner('error', `Installations could not be loaded: ${error.message}`));
    return box;
  }
  const install = provider.install_url
    ? h('a', { href: provider.install_url, class: 'button secondary small', target: '_blank', rel: 'noopener' },
      items.length ? 'Install on another account or configure' : 'Install the App')
    : null;
  if (!items.length) {
    box.append(h('p', { class: 'notice', id: `no-installation-${provider.id}` },
      `The ${provider.display_name} App is not installed on any of your accounts yet, so it cannot reach `
      + 'your repositories. Install it on your account or organisation, then come back.'), install);
    return box;
  }
  box.append(h('h4', {}, 'Installed on'));
  box.append(h('ul', { class: 'plain' }, items.map((item) => h('li', {},
    h('a', { href: item.account_web_url, target: '_blank', rel: 'noopener' }, item.account_login), ' — ',
    item.repository_selection === 'all' ? 'all repositories' : 'selected repositories',
    item.suspended_at ? h('span', { class: 'badge warn' }, 'suspended') : null))));
  if (install) box.append(install);
  return box;
}

async function providerCard(provider, connection, ctx) {
  const card = h('article', { class: 'card provider', id: `provider-${provider.id}`, 'aria-labelledby': `title-${provider.id}` });
  const header = h('div', { class: 'card-head' },
    h('div', {},
      h('h3', { id: `title-${provider.id}` }, provider.display_name),
      h('p', { class: 'muted small' }, `${kindLabel(provider)}${isDataConnector(provider) ? ' (data connector)' : ''} · `,
        h('span', { class: 'url' }, provider.url))));
  card.append(header);

  const statusLine = h('div', { class: 'status-line' });
  const actions = h('div', { class: 'actions' });
  const status = connection ? connection.status : 'none';
  const statusId = `status-${provider.id}`;

  const connect = (label, primary) => h('a', {
    class: `button ${primary ? 'primary' : 'secondary'}`, href: connectUrl(provider), id: `connect-${provider.id}`,
  }, label);

  if (status === 'connected') {
    let account = null;
    try {
      account = await api('GET', `/api/data/oauth2/connections/${enc(connection.id)}/account`);
    } catch (error) {
      statusLine.append(banner('error', `The account could not be read: ${error.message}`));
    }
    statusLine.prepend(statusBadge('Connected', 'ok', statusId));
    if (account && isDataConnector(provider)) {
      // An e-mail address or Zenodo's "Zenodo user ID: 42", not a handle.
      statusLine.append(' as ', h('span', { id: `account-${provider.id}` }, account.username));
    } else if (account) {
      statusLine.append(' as ', account.web_url
        ? h('a', { href: account.web_url, target: '_blank', rel: 'noopener', id: `account-${provider.id}` }, `@${account.username}`)
        : h('span', { id: `account-${provider.id}` }, `@${account.username}`));
    }
    actions.append(connect('Reconnect', false));
  } else if (status === 'pending') {
    statusLine.append(statusBadge('Pending', 'neutral', statusId), ' Connecting was started but not finished.');
    actions.append(connect('Connect', true));
  } else if (status === 'invalid_credentials') {
    statusLine.append(statusBadge('Needs reconnect', 'warn', statusId), ' ',
      connection.status_reason || 'The provider no longer accepts the stored grant.');
    actions.append(connect('Reconnect', true));
  } else {
    statusLine.append(statusBadge('Not connected', 'neutral', statusId));
    actions.append(connect('Connect', true));
  }

  if (connection) {
    const disconnect = h('button', { type: 'button', class: 'secondary danger-text', id: `disconnect-${provider.id}` }, 'Disconnect');
    disconnect.addEventListener('click', async () => {
      const what = provider.kind === 'zenodo'
        ? 'Keybridge forgets its token (Zenodo offers no way to revoke it; remove the grant under Applications in your Zenodo account to end it there too).'
        : 'Keybridge revokes its token at the provider and forgets it.';
      const ok = await confirmAction(`Disconnect ${provider.display_name}?`,
        `${what} Sessions using this connection lose access until you connect again.`,
        'Disconnect');
      if (!ok) return;
      await busy(disconnect, async () => {
        try {
          await api('DELETE', `/api/data/oauth2/connections/${enc(connection.id)}`);
          notify(`${provider.display_name} disconnected.`);
          ctx.refresh();
        } catch (error) {
          card.append(banner('error', error.message));
        }
      });
    });
    actions.append(disconnect);
  }
  card.append(statusLine, actions);
  if (isGitHubApp(provider) && status === 'connected') {
    card.append(await installationsBlock(provider, connection));
  }
  return card;
}

function repositoryCheck() {
  const section = h('section', { class: 'card', 'aria-labelledby': 'repo-check-title', id: 'repo-check' });
  const input = h('input', { id: 'repo-url', type: 'url', name: 'url', required: true, placeholder: 'https://gitlab.example.org/group/project', 'aria-describedby': 'repo-url-help' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'repo-check-submit' }, 'Check');
  const result = h('div', { id: 'repo-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack' },
    h('label', { for: 'repo-url' }, 'Repository URL'),
    h('div', { class: 'inline' }, input, submit),
    h('p', { class: 'help', id: 'repo-url-help' }, 'Paste the address you would clone. Keybridge shows which integration serves it and what you can do there.'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const url = input.value.trim();
    result.replaceChildren();
    if (!url) {
      result.append(banner('error', 'Enter a repository URL first.'));
      input.focus();
      return;
    }
    busy(submit, async () => {
      try {
        const data = await api('GET', `/api/data/repository?url=${enc(url)}`);
        result.append(repositoryResult(data));
      } catch (error) {
        result.append(banner('error', error.message));
      }
    });
  });
  section.append(h('h2', { id: 'repo-check-title' }, 'Check a repository'), form, result);
  return section;
}

function imageCheck() {
  const section = h('section', { class: 'card', 'aria-labelledby': 'image-check-title', id: 'image-check' });
  const input = h('input', { id: 'image-url', type: 'text', name: 'image_url', required: true, spellcheck: 'false', placeholder: 'registry.gitlab.example.org/group/project/image:tag', 'aria-describedby': 'image-url-help' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'image-check-submit' }, 'Check');
  const result = h('div', { id: 'image-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'stack' },
    h('label', { for: 'image-url' }, 'Image'),
    h('div', { class: 'inline' }, input, submit),
    h('p', { class: 'help', id: 'image-url-help' }, 'An image as you would pull it. Keybridge shows whether you can pull it, for which platforms, and which integration serves its registry.'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const image = input.value.trim();
    result.replaceChildren();
    if (!image) {
      result.append(banner('error', 'Enter an image first.'));
      input.focus();
      return;
    }
    busy(submit, async () => {
      try {
        const data = await api('GET', `/api/data/sessions/images?image_url=${enc(image)}`);
        result.append(imageResult(data));
      } catch (error) {
        result.append(banner('error', error.message));
      }
    });
  });
  section.append(h('h2', { id: 'image-check-title' }, 'Check an image'), form, result);
  return section;
}

function imageResult(data) {
  const box = h('div', { class: `repo-result ${data.accessible ? 'valid' : 'invalid'}` });
  const rows = [];
  if (data.provider) rows.push(['Integration', `${data.provider.name} (${data.provider.id})`]);
  if (data.connection) rows.push(['Your connection', data.connection.status.replace('_', ' ')]);
  if (data.platforms && data.platforms.length) {
    rows.push(['Platforms', data.platforms.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/')).join(', ')]);
  }
  box.append(h('p', { class: 'headline', id: 'image-headline' },
    data.accessible ? 'You can pull this image.' : 'Keybridge cannot pull this image for you yet.'));
  if (rows.length) {
    box.append(h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { fact: k } }, v)])));
  }
  if (data.message) box.append(h('p', { id: 'image-message' }, data.message));
  if (data.connect_url) {
    box.append(h('div', { class: 'actions' },
      h('a', { class: 'button primary small', href: data.connect_url }, `Connect ${data.provider ? data.provider.name : 'the integration'}`)));
  }
  return box;
}

function yesNo(value) {
  if (value === undefined) return 'unknown';
  return value ? 'yes' : 'no';
}

function repositoryResult(data) {
  const box = h('div', { class: `repo-result ${data.status}` });
  const meta = data.metadata;
  const rows = [];
  if (data.provider) rows.push(['Integration', `${data.provider.name} (${data.provider.id})`]);
  if (data.connection) rows.push(['Your connection', data.connection.status === 'connected' ? 'connected' : data.connection.status.replace('_', ' ')]);
  if (meta) {
    rows.push(['Visibility', meta.visibility]);
    rows.push(['Pull (read)', yesNo(meta.pull_permission)]);
    rows.push(['Push (write)', yesNo(meta.push_permission)]);
  }
  const headline = data.status === 'valid'
    ? (meta && meta.push_permission ? 'You can pull and push this repository.' : 'You can pull this repository.')
    : data.status === 'invalid' ? 'Keybridge cannot give access to this repository yet.' : 'Keybridge could not tell whether you have access.';
  box.append(h('p', { class: 'headline', id: 'repo-headline' }, headline));
  if (rows.length) {
    box.append(h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { fact: k } }, v)])));
  }
  if (data.message) box.append(h('p', { id: 'repo-message' }, data.message));
  const todo = [];
  if (data.connect_url) todo.push(h('a', { class: 'button primary small', href: data.connect_url }, `Connect ${data.provider ? data.provider.name : 'the integration'}`));
  if (data.install_url) todo.push(h('a', { class: 'button secondary small', href: data.install_url, target: '_blank', rel: 'noopener' }, 'Install the App for this repository'));
  if (meta && meta.web_url) todo.push(h('a', { class: 'button secondary small', href: meta.web_url, target: '_blank', rel: 'noopener' }, 'Open the repository'));
  if (todo.length) box.append(h('div', { class: 'actions' }, todo));
  return box;
}

export async function renderIntegrations(section, ctx) {
  section.append(h('h1', {}, 'Integrations'),
    h('p', { class: 'muted' }, 'Connect your accounts once; your sessions then get fresh tokens for them automatically.'));
  const [providers, connections] = await Promise.all([
    api('GET', '/api/data/oauth2/providers'),
    api('GET', '/api/data/oauth2/connections'),
  ]);
  const list = h('div', { class: 'cards', id: 'provider-list' });
  section.append(list);
  if (!providers.length) {
    list.append(h('div', { class: 'empty' },
      h('p', {}, 'No integrations are set up yet.'),
      ctx.user.is_admin
        ? h('p', {}, h('a', { href: '#/admin' }, 'Add the first integration'), ' in the admin panel.')
        : h('p', { class: 'muted' }, 'Ask your administrator to add GitLab or GitHub.')));
  } else {
    const byProvider = new Map(connections.map((c) => [c.provider_id, c]));
    const cards = await Promise.all(providers.map((p) => providerCard(p, byProvider.get(p.id), ctx)));
    list.append(...cards);
  }
  section.append(repositoryCheck(), imageCheck());
}
