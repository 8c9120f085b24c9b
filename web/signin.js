// Sign-in: the identity provider (when configured), or an API token from
// `keybridge tokens create`; and the one-time administrator link `keybridge serve` prints.
import { api } from './api.js';
import { h, banner, busy } from './ui.js';

export async function signInWithOnceLink(ctx, token) {
  try {
    ctx.setUser(await api('POST', '/api/data/auth/once', { token }));
    ctx.flash = { kind: 'success', message: 'Signed in as administrator.' };
  } catch (error) {
    ctx.flash = { kind: 'error', message: error.message };
  }
}

export function renderSignIn(main, ctx, flash) {
  const card = h('section', { class: 'card narrow', 'aria-labelledby': 'signin-title', id: 'signin' });
  card.append(h('h1', { id: 'signin-title' }, 'Sign in to Keybridge'));
  if (flash) card.append(banner(flash.kind, flash.message));
  card.append(h('p', { class: 'muted' },
    'Keybridge connects your GitLab and GitHub accounts, so your sessions get fresh tokens.'));

  if (ctx.methods.oidc) {
    const next = location.hash && location.hash !== '#' ? `/${location.hash}` : '/';
    card.append(
      h('a', { class: 'button primary block', id: 'signin-oidc',
        href: `/api/data/auth/login?next=${encodeURIComponent(next)}` }, 'Sign in with your organisation account'),
      h('p', { class: 'divider' }, 'or use a token'),
    );
  }

  const error = h('div', { id: 'signin-error' });
  const input = h('input', {
    id: 'signin-token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    spellcheck: 'false', 'aria-describedby': 'signin-token-help',
  });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'stack', novalidate: true },
    h('label', { for: 'signin-token' }, 'Keybridge token'),
    input,
    h('p', { class: 'help', id: 'signin-token-help' },
      'An administrator creates one with ', h('code', {}, 'keybridge tokens create --user <name>'),
      ' (add ', h('code', {}, '--admin'), ' for an administrator). It starts with ', h('code', {}, 'kb_'), '.'),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.replaceChildren();
    const token = input.value.trim();
    if (!token) {
      error.append(banner('error', 'Paste your token first.'));
      input.focus();
      return;
    }
    busy(submit, async () => {
      try {
        ctx.setUser(await api('POST', '/api/data/auth/token', { token }));
        ctx.refresh();
      } catch (e) {
        error.append(banner('error', e.message));
        input.focus();
      }
    });
  });
  card.append(form);
  card.append(h('p', { class: 'help' },
    'First start? ', h('code', {}, 'keybridge serve'),
    ' prints a one-time administrator sign-in link while no administrator has signed in.'));
  main.append(card);
  input.focus();
}
