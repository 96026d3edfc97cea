// Drives Debian's Chromium (playwright-core, never a downloaded browser)
// through the demo WWSF (deploy/demo/wwsf.py): a wrong password is refused;
// alice signs in at WWSF A and its WIC page registers with A's token; the
// page stays registered across token renewals and receives a MESSAGE; a
// page from A's origin registering with a token of WWSF B is refused; a
// guest signs in, gets an IMPU from A's range, registers and receives a
// MESSAGE; alice signs out (un-registers).  Prints TAP lines.
// usage: node wic_tna.mjs WWSF_A_URL WWSF_B_URL WSS_URL STEPFILE
// Appends to STEPFILE what the orchestrator (tests/integ/browser_tna.py)
// acts on: "registered alice", "tokenb TOKEN", "guest USER",
// "signedout alice".
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [urlA, urlB, wss, stepFile] = process.argv.slice(2);
let n = 0, failed = 0;
const result = (ok, name, ...detail) => {
  n++;
  if (ok) console.log(`ok ${n} - ${name}`);
  else { failed++; console.log(`not ok ${n} - ${name}`); detail.forEach((d) => console.log(`#   ${d}`)); }
  return ok;
};
const step = (line) => fs.appendFileSync(stepFile, line + '\n');
const debug = process.env.WIC_DEBUG;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--ignore-certificate-errors',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-gpu'],
});

async function newPage() {
  // A context per user: its own cookies (the WWSF session).
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (debug) console.log('# console: ' + m.text()); });
  page.on('pageerror', (e) => console.log('# pageerror: ' + e));
  return page;
}

// The WIC page's registration state once it settles: {state, status, impu}.
async function settled(page, timeout = 15000) {
  await page.waitForFunction(() => ['registered', 'failed', 'disconnected']
    .includes(document.getElementById('state').dataset.state), null, { timeout });
  return page.evaluate(() => ({
    state: document.getElementById('state').dataset.state,
    status: document.getElementById('status').textContent,
    impu: document.getElementById('impu').textContent,
  }));
}

async function signIn(page, url, user, password) {
  await page.goto(url + '/');
  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#signin-button')]);
}

async function message(page, text, timeout = 60000) {
  return page.waitForFunction((t) => document.getElementById('messages').textContent.includes(t),
    text, { timeout }).then(() => page.textContent('#messages')).catch((e) => 'timeout: ' + e.message);
}

try {
  // 1. A wrong password gets no session and no page.
  const alice = await newPage();
  await signIn(alice, urlA, 'alice', 'alice-secret');
  const err = await alice.textContent('#error').catch(() => null);
  result(alice.url().startsWith(urlA + '/?failed') && /Wrong user name or password/.test(err || ''),
    'WWSF A refuses a wrong password (the IMS password is no WWSF password)', alice.url(), err);
  await alice.goto(urlA + '/wic.html');
  result(!alice.url().endsWith('/wic.html'), 'the WIC page needs a session (redirected to sign-in)',
    alice.url());

  // 2. alice at WWSF A: the page registers with A's token.
  await signIn(alice, urlA, 'alice', 'alice-wwsf');
  let s = await settled(alice);
  result(s.state === 'registered' && s.status === '(200 OK)' && s.impu === 'sip:alice@ims.test',
    'alice signs in at WWSF A and JsSIP registers with its token (200 OK)', JSON.stringify(s));
  step('registered alice');
  // The orchestrator waits past the first token's expiry, then sends a MESSAGE.
  let got = await message(alice, 'hello from sipp', 90000);
  result(got.includes('hello from sipp'),
    'after the first token expired (renewed by the page) a MESSAGE from SIPp reaches alice', got);
  s = await settled(alice);
  result(s.state === 'registered', 'the page still shows alice registered', JSON.stringify(s));

  // 3. bob at WWSF B (its own origin and key): registers there.
  const bobB = await newPage();
  await signIn(bobB, urlB, 'bob', 'bob-wwsf');
  s = await settled(bobB);
  result(s.state === 'registered' && s.status === '(200 OK)',
    'bob signs in at WWSF B and registers from B\'s origin (200 OK)', JSON.stringify(s));
  const tokB = await bobB.evaluate(() => fetch('/token', { method: 'POST' }).then((r) => r.json()));
  result(typeof tokB.token === 'string' && tokB.wwsf === 'wwsf-b', 'WWSF B issues bob a token',
    JSON.stringify(tokB).slice(0, 200));
  step('tokenb ' + tokB.token);

  // 4. A page from WWSF A's origin registering with WWSF B's token.
  const cross = await newPage();
  await cross.goto(urlA + '/');
  await cross.addScriptTag({ url: '/jssip.js' });
  const r = await cross.evaluate(([w, tok]) => new Promise((resolve) => {
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(w)], uri: 'sip:bob@ims.test',
      authorization_jwt: 'Bearer ' + tok, register: true, connection_recovery_min_interval: 60,
    });
    ua.on('registered', (e) => { ua.stop(); resolve({ status: e.response.status_code }); });
    ua.on('registrationFailed', (e) => {
      ua.stop();
      resolve({ status: e.response ? e.response.status_code : 0,
        reason: e.response ? e.response.reason_phrase : e.cause });
    });
    ua.start();
  }), [wss, tokB.token]);
  result(r.status === 403 && r.reason === 'Forbidden',
    'a page of WWSF A\'s origin using WWSF B\'s token is refused: 403 Forbidden', JSON.stringify(r));

  // 5. A guest at WWSF A: an IMPU from A's range.
  const guest = await newPage();
  await guest.goto(urlA + '/');
  await Promise.all([guest.waitForNavigation(), guest.click('#guest-button')]);
  s = await settled(guest);
  const m = /^sip:(guest-\d+)@ims\.test \(guest\)$/.exec(s.impu);
  result(m && s.state === 'registered' && s.status === '(200 OK)',
    'a guest signs in at WWSF A and registers an IMPU from its range (200 OK)', JSON.stringify(s));
  if (m) {
    step('guest ' + m[1]);
    got = await message(guest, 'hello from sipp');
    result(got.includes('hello from sipp'), 'a MESSAGE from SIPp reaches the guest IMPU', got);
  }

  // 6. alice signs out: un-registered, back on the sign-in page.
  await Promise.all([alice.waitForNavigation(), alice.click('#signout-button')]);
  result(alice.url() === urlA + '/', 'alice signs out (back at the sign-in page)', alice.url());
  step('signedout alice');
} catch (e) {
  result(false, 'browser scenario ran to the end', String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
