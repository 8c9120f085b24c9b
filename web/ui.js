// Small DOM helpers: elements are built with text nodes only (no innerHTML with data), so nothing
// a provider or user typed can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let toastTimer = 0;
export function notify(message) {
  const toast = document.getElementById('toast');
  toast.textContent = message;
  toast.classList.add('visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.classList.remove('visible'), 4000);
}

// A message box for errors and notices (role=alert so screen readers announce errors).
export function banner(kind, message) {
  return h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
}

export function confirmAction(title, text, confirmLabel) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'secondary small copy', 'aria-label': `${label}: ${text}` }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      notify('Copied to the clipboard.');
    } catch {
      notify('Copying was blocked by the browser; select the text and copy it by hand.');
    }
  });
  return button;
}

// A read-only line of code with a copy button.
export function codeLine(text, attrs = {}) {
  return h('div', { class: 'code-line', ...attrs }, h('code', {}, text), copyButton(text));
}

// Runs `action` with the button disabled, so a double click cannot send twice.
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

// The server decides GitHub.com vs Enterprise (github_flavor, from the URL's host); the UI never
// guesses from the URL itself.
export function isGitHubEnterprise(provider) {
  return provider.kind === 'github' && provider.github_flavor === 'enterprise';
}

const KIND_LABELS = {
  gitlab: 'GitLab',
  generic_oidc: 'OpenID Connect',
  dropbox: 'Dropbox',
  google: 'Google Drive',
  zenodo: 'Zenodo',
};

export function kindLabel(provider) {
  if (provider.kind === 'github') return isGitHubEnterprise(provider) ? 'GitHub Enterprise' : 'GitHub';
  return KIND_LABELS[provider.kind] || provider.kind;
}

// Data connectors (Renku's name): sessions mount data or publish with their tokens; they serve no
// git repositories and no container images.
export function isDataConnector(provider) {
  return ['dropbox', 'google', 'zenodo'].includes(provider.kind);
}
