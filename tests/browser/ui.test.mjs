// Browser test of the web UI: playwright-core drives Debian's Chromium, headless, on
// loopback only, against the real `keybridge` binary and `keybridge-fake-providers` (a fake
// GitLab, a fake GitHub Enterprise and a fake Dropbox). Every wait is on DOM state, never a fixed sleep.
//
//   KEYBRIDGE_BIN=build/dev/src/app/keybridge \
//   KEYBRIDGE_FAKE_PROVIDERS_BIN=build/dev/tests/fakes/keybridge-fake-providers \
//   node tests/browser/ui.test.mjs
//
// Screenshots of each screen go to KEYBRIDGE_SCREENSHOT_DIR (CTest: the build directory); with
// KEYBRIDGE_UPDATE_SCREENSHOTS=1 they are also copied to docs/screenshots/ for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const keybridgeBin = process.env.KEYBRIDGE_BIN;
const fakesBin = process.env.KEYBRIDGE_FAKE_PROVIDERS_BIN;
const shotDir = process.env.KEYBRIDGE_SCREENSHOT_DIR || join(tmpdir(), 'keybridge-screenshots');
const updateDocs = process.env.KEYBRIDGE_UPDATE_SCREENSHOTS === '1';
const TIMEOUT = 20_000;

assert.ok(keybridgeBin, 'set KEYBRIDGE_BIN to the keybridge binary');
assert.ok(fakesBin, 'set KEYBRIDGE_FAKE_PROVIDERS_BIN to the keybridge-fake-providers binary');

const children = [];
let workDir;
let browser;
let keybridge; // { url, signInLink }
let fakes; // the JSON line keybridge-fake-providers prints
const openPages = [];

// Starts a process and resolves with the first stdout line that `match` accepts.
function startProcess(bin, args, match, name) {
  const child = spawn(bin, args, { cwd: workDir, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const stderr = [];
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const found = {};
    lines.on('line', (line) => {
      const value = match(line, found);
      if (value) resolve({ child, value });
    });
    child.on('exit', (code) =>
      reject(new Error(`${name} exited with ${code} before it was ready:\n${Buffer.concat(stderr).toString()}`)));
  });
}

async function startKeybridge() {
  const db = `sqlite://${join(workDir, 'keybridge.db')}`;
  const key = join(workDir, 'keybridge.key');
  const { value } = await startProcess(keybridgeBin,
    ['serve', '--listen', '127.0.0.1:0', '--database', db, '--key-file', key,
      '--background-refresh-interval', '0'],
    (line, found) => {
      // stdout names the 0600 file that holds the one-time link; the link itself never is logged.
      const hint = line.match(/open the one-time link in (\S+)/);
      if (hint) found.signInLinkFile = hint[1];
      const ready = line.match(/keybridge ready on (http:\/\/127\.0\.0\.1:\d+)/);
      if (ready) found.url = ready[1];
      return found.url && found.signInLinkFile ? found : null;
    }, 'keybridge serve');
  const signInLink = readFileSync(value.signInLinkFile, 'utf8').trim();
  assert.match(signInLink, /^http:\/\/127\.0\.0\.1:\d+\/api\/data\/auth\/once#\S+$/);
  return { ...value, signInLink, db, key };
}

function createUserToken(user, extra = []) {
  const out = execFileSync(keybridgeBin, ['tokens', 'create', '--user', user, ...extra, '--database', keybridge.db, '--key-file', keybridge.key], { cwd: workDir }).toString();
  const token = out.match(/kb_[A-Za-z0-9_-]+/);
  assert.ok(token, `keybridge tokens create printed no token: ${out}`);
  return token[0];
}

async function shot(page, name, mask = []) {
  const file = join(shotDir, `${name}.png`);
  // Token values are masked: screenshots are committed and must not look like leaked secrets.
  await page.screenshot({
    path: file, fullPage: true, mask: mask.map((sel) => page.locator(sel)), maskColor: '#c9d1db',
  });
  if (updateDocs) copyFileSync(file, join(repoRoot, 'docs', 'screenshots', `${name}.png`));
}

async function newPage(width = 1180) {
  const context = await browser.newContext({ viewport: { width, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // A CSP violation or a failing module would show up here.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  page.errors = errors;
  openPages.push(page);
  return page;
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent()).trim();
}

async function waitForText(page, selector, pattern) {
  await page.waitForFunction(
    ([sel, source, flags]) => {
      const el = document.querySelector(sel);
      return !!el && new RegExp(source, flags).test(el.textContent);
    },
    [selector, pattern.source, pattern.flags],
  );
}

async function fillIntegration(page, { kind, id, name, url, clientId, clientSecret, appSlug, registry }) {
  await page.click('#add-integration');
  await page.waitForSelector('#integration-form');
  await page.selectOption('#f-kind', kind);
  await page.fill('#f-id', id);
  await page.fill('#f-display-name', name);
  await page.fill('#f-url', url);
  await page.fill('#f-client-id', clientId);
  await page.fill('#f-client-secret', clientSecret);
  if (appSlug) await page.fill('#f-app-slug', appSlug);
  if (registry) await page.fill('#f-image-registry-url', registry);
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'keybridge-ui-'));
  mkdirSync(shotDir, { recursive: true });
  if (updateDocs) mkdirSync(join(repoRoot, 'docs', 'screenshots'), { recursive: true });
  keybridge = await startKeybridge();
  const started = await startProcess(fakesBin,
    ['--redirect-uri', `${keybridge.url}/api/data/oauth2/callback`, '--user', 'alice',
      '--gitlab-project', 'group/project', '--github-repo', 'alice/notebooks', '--github-enterprise'],
    (line) => (line.startsWith('{') ? JSON.parse(line) : null), 'keybridge-fake-providers');
  fakes = started.value;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Chromium's sandbox needs user namespaces it cannot have as root (CI runs as root).
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
});

after(async () => {
  // Whatever happened, the last state of every page is kept for a person to look at.
  for (const [i, page] of openPages.entries()) {
    await page.screenshot({ path: join(shotDir, `last-page-${i}.png`), fullPage: true }).catch(() => {});
  }
  if (browser) await browser.close();
  for (const child of children) {
    if (child.exitCode === null) {
      child.stdin.end(); // the fakes stop when stdin closes
      child.kill('SIGTERM');
    }
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('admin sets up integrations, a user connects, checks a repository, disconnects; admin deletes', async () => {
  // --- Administrator: the one-time link keybridge printed signs in.
  const admin = await newPage();
  await admin.goto(keybridge.signInLink);
  await admin.waitForSelector('#page-admin');
  assert.equal(await text(admin, '#who-name'), 'Administratoradmin');
  assert.equal(await text(admin, '#callback-url code'), `${keybridge.url}/api/data/oauth2/callback`);
  await admin.waitForSelector('#admin-empty');
  await shot(admin, 'admin-empty');
  // The link is single use: the address bar no longer holds it, and a second use is refused.
  assert.ok(!admin.url().includes('once'), admin.url());
  const reuse = await fetch(`${keybridge.url}/api/data/auth/once`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Origin: keybridge.url },
    body: JSON.stringify({ token: keybridge.signInLink.split('#')[1] }),
  });
  assert.equal(reuse.status, 401);

  // --- GitLab, with the scopes prefilled.
  await fillIntegration(admin, {
    kind: 'gitlab', id: 'gitlab', name: 'GitLab', url: fakes.gitlab.url,
    clientId: fakes.gitlab.client_id, clientSecret: fakes.gitlab.client_secret,
  });
  assert.equal(await admin.inputValue('#f-scope'), 'read_api read_repository write_repository read_registry');
  await shot(admin, 'admin-form-gitlab');
  await admin.click('#f-save');
  await admin.waitForSelector('#admin-provider-gitlab');
  // Creating runs "Test this integration" at once.
  await admin.waitForSelector('#checklist-gitlab');
  assert.match(await text(admin, '#check-summary-gitlab'), /passed|Works/);

  // --- GitHub Enterprise (the GitHub kind with the server's URL) with its App slug.
  await fillIntegration(admin, {
    kind: 'github_enterprise', id: 'github', name: 'GitHub Enterprise', url: fakes.github.url,
    clientId: fakes.github.client_id, clientSecret: fakes.github.client_secret, appSlug: fakes.github.app_slug,
  });
  assert.equal(await admin.inputValue('#f-scope'), '');
  await admin.click('#f-save');
  await admin.waitForSelector('#checklist-github');
  assert.match(await text(admin, '#check-summary-github'), /passed|Works/);
  await shot(admin, 'admin-integrations');
  // The label comes from the server's github_flavor ("enterprise" for any host but github.com).
  assert.match(await text(admin, '#admin-provider-github'), /GitHub Enterprise ·/);

  // --- A wrong secret (a typo) is caught by the check, with a fix under it.
  await admin.click('#edit-gitlab');
  await admin.waitForSelector('#integration-form');
  assert.equal(await text(admin, '#secret-state'), 'set');
  assert.equal(await admin.inputValue('#f-client-secret'), '', 'the secret is write-only');
  await admin.fill('#f-client-secret', `${fakes.gitlab.client_secret}x`);
  await admin.click('#f-save');
  // The check before saving catches it first; saving stays possible.
  await admin.waitForSelector('#save-problems [data-check="client_credentials"][data-status="fail"] .fix');
  await admin.click('#f-save-anyway');
  await admin.waitForSelector('#admin-provider-gitlab');
  await admin.click('#test-gitlab');
  await admin.waitForSelector('#checklist-gitlab [data-check="client_credentials"][data-status="fail"] .fix');
  assert.match(await text(admin, '#check-summary-gitlab'), /problem/);
  await shot(admin, 'admin-check-failed');
  await admin.click('#edit-gitlab');
  await admin.fill('#f-client-secret', fakes.gitlab.client_secret);
  await admin.click('#f-save');
  await admin.waitForSelector('#admin-provider-gitlab');
  await admin.click('#test-gitlab');
  await waitForText(admin, '#check-summary-gitlab', /passed|Works/);

  // --- A misspelled scope is named as it is typed, with the scope it most likely meant.
  await admin.click('#edit-gitlab');
  await admin.waitForSelector('#integration-form');
  assert.match(await admin.getAttribute('#f-scope', 'aria-describedby'), /\bf-scope-check\b/);
  assert.equal(await admin.getAttribute('#f-scope-check', 'role'), 'status');
  await admin.fill('#f-scope', 'read_api read_repo write_repository');
  await waitForText(admin, '#f-scope-check', /`read_repo` is not a GitLab scope; did you mean `read_repository`\?/);
  assert.equal(await admin.getAttribute('#f-scope-check', 'data-status'), 'fail');
  await shot(admin, 'admin-scope-typo');
  // Saving shows the failure with its fix, and offers "Save anyway" or "Fix it".
  await admin.click('#f-save');
  await admin.waitForSelector('#save-problems [data-check="scopes"][data-status="fail"] .fix');
  assert.match(await text(admin, '#save-problems'), /did you mean `read_repository`/);
  assert.ok(await admin.isVisible('#f-save-anyway'));
  await admin.click('#f-fix');
  assert.equal(await admin.evaluate(() => document.activeElement.id), 'f-scope');
  assert.equal(await admin.locator('#save-problems').textContent(), '');
  await admin.fill('#f-scope', 'read_api read_repository write_repository');
  await waitForText(admin, '#f-scope-check', /every scope is one GitLab documents/);
  await admin.click('#f-save');
  await admin.waitForSelector('#integration-form', { state: 'detached' });
  // Nothing broken was saved on the way.
  const saved = await admin.evaluate(async () => (await fetch('/api/data/oauth2/providers/gitlab')).json());
  assert.equal(saved.scope, 'read_api read_repository write_repository');

  // --- A researcher signs in with a local token.
  const user = await newPage();
  await user.goto(keybridge.url);
  await user.waitForSelector('#signin-token');
  await user.fill('#signin-token', 'kb_not-a-real-token');
  await user.click('#signin-submit');
  await user.waitForSelector('#signin-error [role="alert"]');
  assert.match(await text(user, '#signin-error'), /not accepted/);
  await shot(user, 'sign-in');
  await user.fill('#signin-token', createUserToken('researcher'));
  await user.click('#signin-submit');
  await user.waitForSelector('#page-integrations');
  await waitForText(user, '#status-gitlab', /Not connected/);
  await waitForText(user, '#status-github', /Not connected/);
  await shot(user, 'integrations-not-connected');

  // A link anyone could send: only a known error code is shown, in our words; the free-text
  // description never reaches the page.
  await user.goto(`${keybridge.url}/?view=integrations&error=access_denied&error_description=${encodeURIComponent('Call +1 555 0100 to restore your account')}`);
  await waitForText(user, '.banner.error', /authorization was declined at the provider/);
  assert.ok(!(await user.textContent('main')).includes('555 0100'));
  await user.goto(`${keybridge.url}/?view=integrations&error=${encodeURIComponent('Your account is locked, visit evil.example')}`);
  await waitForText(user, '.banner.error', /the provider reported an error/);
  assert.ok(!(await user.textContent('main')).includes('evil.example'));
  await user.waitForSelector('#page-integrations');

  // --- Connect both in the same tab; the page comes back showing Connected as @alice.
  await user.click('#connect-gitlab');
  await user.waitForSelector('#account-gitlab');
  assert.equal(await text(user, '#status-gitlab'), 'Connected');
  assert.equal(await text(user, '#account-gitlab'), '@alice');
  await user.click('#connect-github');
  await user.waitForSelector('#account-github');
  assert.equal(await text(user, '#status-github'), 'Connected');
  assert.equal(await text(user, '#account-github'), '@alice');
  await user.waitForSelector('#installations-github');
  await shot(user, 'integrations-connected');

  // --- Check a repository served by the GitLab integration.
  await user.fill('#repo-url', `${fakes.gitlab.url}/group/project`);
  await user.click('#repo-check-submit');
  await user.waitForSelector('#repo-headline');
  assert.match(await text(user, '#repo-headline'), /You can pull/);
  assert.match(await text(user, '#repo-result'), /GitLab/);
  await shot(user, 'repository-check');

  // --- Check an image: an unparsable reference gets the parser's sentence; a registry on a
  // loopback address that no integration serves is not probed.
  await user.fill('#image-url', 'Not/An/Image');
  await user.click('#image-check-submit');
  await user.waitForSelector('#image-result .banner');
  assert.match(await text(user, '#image-result'), /lower-case/);
  await user.fill('#image-url', '127.0.0.1:9/app:1');
  await user.click('#image-check-submit');
  await user.waitForSelector('#image-headline');
  assert.match(await text(user, '#image-headline'), /cannot pull this image/);
  assert.match(await text(user, '#image-message'), /public addresses/);

  // --- An integration with an image registry URL: its images are matched to it, and a user who
  // has not connected it is offered the connect link.
  const registryHost = new URL(fakes.gitlab.url).host;
  await admin.goto(`${keybridge.url}/#/admin`);
  await fillIntegration(admin, {
    kind: 'gitlab', id: 'gitlab-images', name: 'GitLab images', url: `${fakes.gitlab.url}/images-only`,
    clientId: fakes.gitlab.client_id, clientSecret: fakes.gitlab.client_secret,
    registry: `http://${registryHost}`,
  });
  await admin.click('#f-save');
  // Its URL has no OAuth server (a registry-only stand-in): the check before saving says so, and
  // the admin saves anyway.
  await admin.click('#f-save-anyway');
  await admin.waitForSelector('#admin-provider-gitlab-images');
  await admin.waitForSelector('#checklist-gitlab-images [data-check="image_registry"]');
  await user.goto(`${keybridge.url}/#/integrations`);
  await user.waitForSelector('#image-url');
  await user.fill('#image-url', `${registryHost}/group/project/app:1`);
  await user.click('#image-check-submit');
  await user.waitForSelector('#image-headline');
  assert.match(await text(user, '#image-result'), /GitLab images \(gitlab-images\)/);
  assert.match(await text(user, '#image-result'), /Connect GitLab images/);

  // --- Session tokens: create one for the GitLab connection; the token and git lines show once.
  await user.goto(`${keybridge.url}/#/tokens`);
  await user.waitForSelector('#token-form');
  await user.fill('#token-name', 'analysis-session');
  await user.check('#token-conn-gitlab');
  await user.click('#token-create');
  await user.waitForSelector('#token-created');
  assert.match(await text(user, '#token-value code'), /^kbs_/);
  await user.waitForSelector('#tokens-table');
  assert.match(await text(user, '#git-setup'), /credential\.helper '!keybridge git-credential'/);
  assert.match(await text(user, '#git-setup'), /insteadOf/);
  await shot(user, 'session-tokens', ['#token-value code', '#token-export code']);

  // --- Disconnect GitHub, with a confirmation.
  await user.goto(`${keybridge.url}/#/integrations`);
  await user.waitForSelector('#disconnect-github');
  await user.click('#disconnect-github');
  await user.waitForSelector('#confirm[open]');
  await user.click('#confirm-ok');
  await waitForText(user, '#status-github', /Not connected/);
  assert.equal(await text(user, '#status-gitlab'), 'Connected');

  // --- Pointing GitLab elsewhere needs a new secret and says how many users must reconnect.
  await admin.reload();
  await admin.waitForSelector('#edit-gitlab');
  await admin.click('#edit-gitlab');
  await admin.waitForSelector('#integration-form');
  await admin.fill('#f-url', 'https://gitlab.elsewhere.example');
  await waitForText(admin, '#retarget-warning', /new client secret is required.*1 user must reconnect/);
  await admin.click('#f-save');
  await waitForText(admin, '#form-error', /Changing URL requires a new client secret/);
  await admin.fill('#f-client-secret', 'the-new-registrations-secret');
  await admin.click('#f-save');
  await admin.waitForSelector('#confirm[open]');
  assert.match(await text(admin, '#confirm-text'), /You are changing URL\. 1 user must reconnect/);
  await admin.click('#confirm-cancel');
  await admin.click('#f-cancel');
  await admin.waitForSelector('#admin-provider-gitlab');

  // --- The administrator deletes the GitLab integration; the warning counts its connections.
  await admin.reload();
  await admin.waitForSelector('#delete-gitlab');
  await admin.click('#delete-gitlab');
  await admin.waitForSelector('#confirm[open]');
  assert.match(await text(admin, '#confirm-text'), /1 user connection will be removed/);
  await shot(admin, 'admin-delete-confirm');
  await admin.click('#confirm-ok');
  await admin.waitForSelector('#admin-provider-gitlab', { state: 'detached' });
  await admin.waitForSelector('#admin-provider-github');

  // --- The user's page follows; at 360 px wide it still works.
  await user.setViewportSize({ width: 360, height: 780 });
  await user.reload();
  await user.waitForSelector('#provider-github');
  assert.equal(await user.locator('#provider-gitlab').count(), 0);
  await shot(user, 'integrations-mobile');

  // --- Sign out ends the session server-side.
  await user.click('#sign-out');
  await user.waitForSelector('#signin-token');
  const me = await user.request.get(`${keybridge.url}/api/data/user`, { failOnStatusCode: false });
  assert.equal(me.status(), 401);

  assert.deepEqual(admin.errors, []);
  assert.deepEqual(user.errors, []);
});

// Data connectors: a Dropbox integration on the fake Dropbox (its loopback URL is the local
// stand-in the server accepts for the dropbox kind), connected through the whole authorization
// flow. Independent of the test above: its own admin and user tokens.
test('admin adds a Dropbox integration on the fake Dropbox, a user connects it', async () => {
  const admin = await newPage();
  await admin.goto(keybridge.url);
  await admin.waitForSelector('#signin-token');
  await admin.fill('#signin-token', createUserToken('dropbox-admin', ['--admin']));
  await admin.click('#signin-submit');
  await admin.waitForSelector('#page-integrations, #page-admin');
  await admin.goto(`${keybridge.url}/#/admin`);
  await admin.waitForSelector('#page-admin');
  await fillIntegration(admin, {
    kind: 'dropbox', id: 'dropbox', name: 'Dropbox', url: fakes.dropbox.url,
    clientId: fakes.dropbox.client_id, clientSecret: fakes.dropbox.client_secret,
  });
  await admin.click('#f-save');
  await admin.waitForSelector('#admin-provider-dropbox');
  await shot(admin, 'admin-integration-dropbox');

  const user = await newPage();
  await user.goto(keybridge.url);
  await user.waitForSelector('#signin-token');
  await user.fill('#signin-token', createUserToken('dropbox-user'));
  await user.click('#signin-submit');
  await user.waitForSelector('#page-integrations');
  await waitForText(user, '#status-dropbox', /Not connected/);
  await user.click('#connect-dropbox');
  await user.waitForSelector('#account-dropbox');
  assert.equal(await text(user, '#status-dropbox'), 'Connected');
  // keybridge's Dropbox account name is the e-mail address of users/get_current_account.
  assert.match(await text(user, '#account-dropbox'), /alice@example\.com/);
  await shot(user, 'integrations-dropbox-connected');

  assert.deepEqual(admin.errors, []);
  assert.deepEqual(user.errors, []);
});

// "Try connecting": the real authorize → fake GitLab → callback round trip from the admin's
// checklist, back on #/admin?trial=<id> with every stage passed. Its own admin and integration.
test('admin clicks "Try connecting" on a GitLab integration and sees the passed round trip', async () => {
  const admin = await newPage();
  await admin.goto(keybridge.url);
  await admin.waitForSelector('#signin-token');
  await admin.fill('#signin-token', createUserToken('round-trip-admin', ['--admin']));
  await admin.click('#signin-submit');
  await admin.waitForSelector('#page-integrations, #page-admin');
  await admin.goto(`${keybridge.url}/#/admin`);
  await admin.waitForSelector('#page-admin');
  await fillIntegration(admin, {
    kind: 'gitlab', id: 'gitlab-rt', name: 'GitLab round trip', url: fakes.gitlab.url,
    clientId: fakes.gitlab.client_id, clientSecret: fakes.gitlab.client_secret,
  });
  await admin.click('#f-save');
  await admin.waitForSelector('#try-gitlab-rt');
  await admin.fill('#trial-repository-gitlab-rt', `${fakes.gitlab.url}/group/project`);
  await admin.click('#try-gitlab-rt');
  // The browser went to the fake GitLab and came back to the admin page with the trial.
  await admin.waitForURL(/#\/admin\?trial=[0-9A-Z]{26}$/);
  await waitForText(admin, '#trial-summary-gitlab-rt', /Round trip passed/);
  for (const id of ['reached_provider', 'came_back', 'code_exchange', 'account', 'repository']) {
    await admin.waitForSelector(`#trial-gitlab-rt [data-check="${id}"][data-status="pass"]`);
  }
  await admin.waitForSelector('#trial-gitlab-rt [data-check="kept"][data-status="skip"]');
  await shot(admin, 'admin-round-trip');
  assert.deepEqual(admin.errors, []);
});

// A GitLab application whose redirect URI is not keybridge's callback: GitLab shows its error page
// and never sends the browser back. The administrator returns to the admin page by hand and the
// trial already names the fix: the exact callback URL to register.
test('"Try connecting" names the callback URL when GitLab refuses the redirect URI', async () => {
  const other = await startProcess(fakesBin,
    ['--redirect-uri', 'https://elsewhere.example.org/callback', '--user', 'alice'],
    (line) => (line.startsWith('{') ? JSON.parse(line) : null), 'keybridge-fake-providers (wrong redirect URI)');
  const gitlab = other.value.gitlab;
  const admin = await newPage();
  await admin.goto(keybridge.url);
  await admin.waitForSelector('#signin-token');
  await admin.fill('#signin-token', createUserToken('redirect-admin', ['--admin']));
  await admin.click('#signin-submit');
  await admin.waitForSelector('#page-integrations, #page-admin');
  await admin.goto(`${keybridge.url}/#/admin`);
  await admin.waitForSelector('#page-admin');
  await fillIntegration(admin, {
    kind: 'gitlab', id: 'gitlab-wrong-redirect', name: 'GitLab with another redirect URI', url: gitlab.url,
    clientId: gitlab.client_id, clientSecret: gitlab.client_secret,
  });
  await admin.click('#f-save');
  await admin.waitForSelector('#try-gitlab-wrong-redirect');
  await admin.click('#try-gitlab-wrong-redirect');
  // GitLab's own error page, on GitLab's host: keybridge never hears back.
  await admin.waitForURL((url) => url.toString().startsWith(gitlab.url));
  await admin.waitForSelector('text=The redirect URI included is not valid.');
  await admin.goto(`${keybridge.url}/#/admin`);
  await admin.waitForSelector('#trial-gitlab-wrong-redirect [data-check="reached_provider"][data-status="pass"]');
  await admin.waitForSelector('#trial-gitlab-wrong-redirect [data-check="came_back"][data-status="warn"]');
  const fix = await text(admin, '#trial-gitlab-wrong-redirect [data-check="came_back"] .fix');
  assert.match(fix, /The redirect URI included is not valid\./);
  assert.ok(fix.includes(`exactly ${keybridge.url}/api/data/oauth2/callback`), fix);
  await shot(admin, 'admin-round-trip-wrong-redirect');
  assert.deepEqual(admin.errors, []);
});

// The audit trail: a user reads a connection token through the API; the administrator's Audit page
// shows that hand-out (through "api", by an API token) with the token's fingerprint, never the token.
test('admin sees the token hand-out of a connection token read on the Audit page', async () => {
  const admin = await newPage();
  await admin.goto(keybridge.url);
  await admin.waitForSelector('#signin-token');
  await admin.fill('#signin-token', createUserToken('audit-admin', ['--admin']));
  await admin.click('#signin-submit');
  await admin.waitForSelector('#page-integrations, #page-admin');
  await admin.goto(`${keybridge.url}/#/admin`);
  await admin.waitForSelector('#page-admin');
  await fillIntegration(admin, {
    kind: 'dropbox', id: 'dropbox-audit', name: 'Dropbox audit', url: fakes.dropbox.url,
    clientId: fakes.dropbox.client_id, clientSecret: fakes.dropbox.client_secret,
  });
  await admin.click('#f-save');
  await admin.waitForSelector('#admin-provider-dropbox-audit');

  const userToken = createUserToken('audit-user');
  const user = await newPage();
  await user.goto(keybridge.url);
  await user.waitForSelector('#signin-token');
  await user.fill('#signin-token', userToken);
  await user.click('#signin-submit');
  await user.waitForSelector('#page-integrations');
  await user.click('#connect-dropbox-audit');
  await user.waitForSelector('#account-dropbox-audit');

  const headers = { Authorization: `Bearer ${userToken}` };
  const connections = await (await fetch(`${keybridge.url}/api/data/oauth2/connections`, { headers })).json();
  const connection = connections.find((c) => c.provider_id === 'dropbox-audit');
  assert.ok(connection);
  const answer = await fetch(`${keybridge.url}/api/data/oauth2/connections/${connection.id}/token`, { headers });
  assert.equal(answer.status, 200);
  const accessToken = (await answer.json()).access_token;
  const fingerprint = createHash('sha256').update(accessToken).digest('hex').slice(0, 12);

  await admin.waitForSelector('#nav-audit:not([hidden])');
  await admin.click('#nav-audit');
  await admin.waitForSelector('#page-audit #audit-filters');
  await admin.selectOption('#audit-provider', 'dropbox-audit');
  await admin.selectOption('#audit-kind', 'token-handout');
  await admin.click('#audit-apply');
  await admin.waitForSelector('#audit-table tr[data-kind="token-handout"][data-consumer="api"]');
  await waitForText(admin, '#audit-table tbody', new RegExp(fingerprint));
  const table = await text(admin, '#audit-table');
  assert.match(table, /audit-user/);
  assert.match(table, /api-token/);
  assert.ok(!table.includes(accessToken), 'the page never shows the token');
  await shot(admin, 'admin-audit');
  assert.deepEqual(admin.errors, []);
  assert.deepEqual(user.errors, []);
});
