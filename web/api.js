// The JSON API under /api/data, same-origin with the session cookie. Every failure becomes an
// ApiError whose message is the server's human message ({"error":{"code","message"}}), never raw
// JSON. State-changing requests carry the session's CSRF token.
let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) {
    headers['X-CSRF-Token'] = csrfToken;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'Keybridge could not be reached. Check your connection and try again.');
  }
  if (response.status === 204) {
    return null;
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message =
      data && data.error && typeof data.error.message === 'string' && data.error.message
        ? data.error.message
        : `Keybridge answered ${response.status}${response.statusText ? ' ' + response.statusText : ''}.`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export const enc = encodeURIComponent;
