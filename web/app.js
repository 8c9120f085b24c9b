// Keybridge web UI: hash routes (#/integrations, #/tokens, #/admin) over the JSON API. The page is
// served with a strict Content-Security-Policy, so everything here is in modules, nothing inline.
import { api, ApiError, setCsrfToken } from './api.js';
import { h, clear, banner, busy } from './ui.js';
import { renderSignIn, signInWithOnceLink } from './signin.js';
import { renderIntegrations } from './integrations.js';
import { renderTokens } from './tokens.js';
import { renderAdmin } from './admin.js';
import { renderAudit } from './audit.js';

const ctx = {
  user: null,
  methods: { oidc: false, local_token: true, public_url: location.origin, oauth_callback_url: '' },
  flash: null, // { kind, message } shown once on the next page
  refresh: () => render(),
  setUser,
};

const ROUTES = {
  integrations: { title: 'Integrations', render: renderIntegrations },
  tokens: { title: 'Session tokens', render: renderTokens },
  admin: { title: 'Admin', render: renderAdmin, admin: true },
  audit: { title: 'Audit', render: renderAudit, admin: true },
};

function setUser(user) {
  ctx.user = user;
  setCsrfToken(user ? user.csrf_token : '');
  renderHeader();
}

function currentRoute() {
  const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return ROUTES[name] ? name : 'integrations';
}

function renderHeader() {
  const nav = document.getElementById('nav');
  const who = clear(document.getElementById('who'));
  nav.hidden = !ctx.user;
  document.getElementById('nav-admin').hidden = !(ctx.user && ctx.user.is_admin);
  document.getElementById('nav-audit').hidden = !(ctx.user && ctx.user.is_admin);
  if (!ctx.user) return;
  const route = currentRoute();
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.route === route) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const signOut = h('button', { type: 'button', class: 'secondary small', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', () =>
    busy(signOut, async () => {
      try {
        await api('POST', '/api/data/auth/logout');
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401) {
          ctx.flash = { kind: 'error', message: error.message };
        }
      }
      setUser(null);
      render();
    }),
  );
  who.append(
    h('span', { class: 'who-name', id: 'who-name' }, ctx.user.name || ctx.user.username,
      ctx.user.is_admin ? h('span', { class: 'badge neutral' }, 'admin') : null),
    signOut,
  );
}

let renderSerial = 0;

async function render() {
  const serial = ++renderSerial;
  const main = clear(document.getElementById('main'));
  renderHeader();
  const flash = ctx.flash;
  ctx.flash = null;
  if (!ctx.user) {
    document.title = 'Sign in · Keybridge';
    renderSignIn(main, ctx, flash);
    return;
  }
  const name = currentRoute();
  const route = ROUTES[name];
  document.title = `${route.title} · Keybridge`;
  if (flash) main.append(banner(flash.kind, flash.message));
  if (route.admin && !ctx.user.is_admin) {
    main.append(h('h1', {}, 'Admin'), banner('error', 'Only administrators can manage integrations.'));
    return;
  }
  const section = h('div', { class: 'page', id: `page-${name}` });
  main.append(section);
  try {
    await route.render(section, ctx);
  } catch (error) {
    if (serial !== renderSerial) return;
    if (error instanceof ApiError && error.status === 401) {
      setUser(null);
      ctx.flash = { kind: 'error', message: error.message };
      render();
      return;
    }
    section.append(banner('error', error.message || 'Something went wrong.'));
  }
}

// Query parameters on "/" come from redirects: the one-time admin link (?signin=once#token) and
// the end of a connect flow (?view=integrations[&error=...]). They are read once and removed from
// the address bar, so a token never stays in the history.
// OAuth 2.0 authorization error codes (RFC 6749 section 4.1.2.1), as the end of a connect flow
// reports them.
const CONNECT_ERRORS = {
  access_denied: 'the authorization was declined at the provider.',
  invalid_scope: 'the provider refused the requested scopes; ask an administrator to check the integration.',
  invalid_request: 'the provider refused the request; ask an administrator to check the integration.',
  unauthorized_client: 'the provider does not allow this integration to connect; ask an administrator to check it.',
  unsupported_response_type: 'the provider refused the request; ask an administrator to check the integration.',
  server_error: 'the provider had a problem; try again.',
  temporarily_unavailable: 'the provider is temporarily unavailable; try again in a moment.',
};

async function consumeRedirectParameters() {
  const params = new URLSearchParams(location.search);
  if (!location.search) return;
  if (params.get('signin') === 'once') {
    const token = location.hash.replace(/^#/, '');
    history.replaceState(null, '', '/#/admin');
    await signInWithOnceLink(ctx, token);
    return;
  }
  const view = params.get('view');
  const error = params.get('error');
  if (error) {
    // Anyone can send a link with ?error=...: only known codes are shown, in our own words, and
    // error_description (free text) never reaches the page.
    ctx.flash = {
      kind: 'error',
      message: `The connection was not completed: ${CONNECT_ERRORS[error] || 'the provider reported an error.'}`,
    };
  }
  history.replaceState(null, '', `/#/${ROUTES[view] ? view : 'integrations'}`);
}

async function boot() {
  try {
    ctx.methods = await api('GET', '/api/data/auth/methods');
  } catch {
    // Keep the defaults: the token form still works.
  }
  await consumeRedirectParameters();
  if (!ctx.user) {
    try {
      setUser(await api('GET', '/api/data/user'));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) {
        ctx.flash = { kind: 'error', message: error.message };
      }
    }
  }
  window.addEventListener('hashchange', () => {
    render();
    document.getElementById('main').focus();
  });
  render();
}

boot();
