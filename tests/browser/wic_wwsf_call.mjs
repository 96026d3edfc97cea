// Drives Debian's Chromium (playwright-core) through the demo WWSF's WIC
// page (deploy/demo/www/wic.html) as a user would, by its buttons: alice
// signs in, the page registers with the WWSF's token and calls the echo
// (sip:echo@ims.test, a SIPp RTP echo) through the eP-CSCF and the
// eIMS-AGW, then hangs up; two guests sign in (IMPUs from the WWSF's
// range), a SIP phone (SIPp) calls the second, whose page rings and is
// answered while the first one's stays quiet; that guest then calls the
// echo itself and signs out.  Media judged by the page's own getStats
// counters.  Prints TAP lines.
// usage: node wic_wwsf_call.mjs WWSF_URL STEPDIR
// Before each step the driver writes its name (and argument) to
// STEPDIR/want and waits for STEPDIR/ready-NAME: the orchestrator
// (tests/integ/browser_wwsf_call.py) starts the SIPp peer it needs.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [url, stepDir] = process.argv.slice(2);
let n = 0, failed = 0;
const result = (ok, name, ...detail) => {
  n++;
  if (ok) console.log(`ok ${n} - ${name}`);
  else { failed++; console.log(`not ok ${n} - ${name}`); }
  detail.forEach((d) => console.log(`#   ${d}`));
  return ok;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const close = (a, b) => b >= a / 2 && a >= b / 2;

async function step(name, arg = '', secs = 30) {
  fs.writeFileSync(path.join(stepDir, 'want'), arg ? name + ' ' + arg : name);
  const ready = path.join(stepDir, 'ready-' + name);
  for (let i = 0; i < secs * 10; i++) {
    if (fs.existsSync(ready)) return true;
    await sleep(100);
  }
  return false;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
    '--ignore-certificate-errors', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
});

async function newPage(who) {
  // A context per user: its own WWSF session cookie.
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (process.env.WIC_DEBUG) console.log(`# console (${who}): ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`# pageerror (${who}): ${e}`));
  return page;
}

const text = (page, id) => page.textContent('#' + id);
const callState = (page) => page.evaluate(() => ({
  state: document.getElementById('call-state').dataset.state,
  text: document.getElementById('call-state').textContent,
  status: document.getElementById('call-status').textContent,
}));

async function registered(page) {
  await page.waitForFunction(() => ['registered', 'failed', 'disconnected']
    .includes(document.getElementById('state').dataset.state), null, { timeout: 20000 });
  return page.evaluate(() => ({
    state: document.getElementById('state').dataset.state,
    status: document.getElementById('status').textContent,
    impu: document.getElementById('impu').textContent,
    canCall: !document.getElementById('call-button').disabled,
  }));
}

async function waitCall(page, states, secs) {
  return page.waitForFunction((s) => s.includes(document.getElementById('call-state').dataset.state),
    states, { timeout: secs * 1000 }).then(() => callState(page)).catch(() => callState(page));
}

// The page's RTP counters until both directions passed `min` packets.
async function flowing(page, min = 50, secs = 20) {
  let s;
  for (let i = 0; i < secs * 4; i++) {
    s = await page.evaluate(() => ({
      sent: Number(document.getElementById('media').dataset.sent),
      received: Number(document.getElementById('media').dataset.received),
      shown: document.getElementById('media').textContent,
    }));
    if (s.sent >= min && s.received >= min) break;
    await sleep(250);
  }
  return s;
}

// Remote audio attached to the page's <audio> element and playing.
const playing = (page) => page.evaluate(() => {
  const a = document.getElementById('remote');
  const tracks = a.srcObject ? a.srcObject.getAudioTracks() : [];
  return { tracks: tracks.length, live: tracks.some((t) => t.readyState === 'live'), paused: a.paused };
});

async function callEcho(page, who) {
  await page.click('#call-button');
  let c = await waitCall(page, ['confirmed', 'failed', 'ended'], 20);
  result(c.state === 'confirmed' && /in call with sip:echo@ims\.test/.test(c.text),
    `${who} presses Call: the call to sip:echo@ims.test is answered`, JSON.stringify(c));
  if (c.state !== 'confirmed') return;
  const s = await flowing(page);
  result(s.sent > 0 && s.received > 0 && close(s.sent, s.received),
    `${who}: audio flows both ways through the eIMS-AGW (getStats: packets sent and received close)`,
    JSON.stringify(s));
  const p = await playing(page);
  result(p.tracks === 1 && p.live && !p.paused, `${who}: the echo is played (remote audio element)`,
    JSON.stringify(p));
  result(!(await page.isDisabled('#hangup-button')), `${who}: Hang up is offered during the call`);
  await page.click('#hangup-button');
  c = await waitCall(page, ['ended', 'failed'], 10);
  result(c.state === 'ended' && /by you/.test(c.text), `${who} presses Hang up: the call ends (BYE)`,
    JSON.stringify(c));
  result(!(await page.isDisabled('#call-button')), `${who}: Call is offered again`);
}

try {
  // 1. alice: sign in, register with the token, call the echo.
  const alice = await newPage('alice');
  await alice.goto(url + '/');
  await alice.fill('#user', 'alice');
  await alice.fill('#password', 'alice-wwsf');
  await Promise.all([alice.waitForNavigation(), alice.click('#signin-button')]);
  let r = await registered(alice);
  result(r.state === 'registered' && r.impu === 'sip:alice@ims.test' && r.canCall,
    'alice signs in at the WWSF and registers with its token; Call is offered', JSON.stringify(r));
  result((await alice.inputValue('#target')) === 'sip:echo@ims.test',
    'the call target defaults to sip:echo@ims.test');
  if (await step('echo')) await callEcho(alice, 'alice');

  // 2. Two guests from the WWSF's range; a SIP phone calls the second.
  const g1 = await newPage('guest 1');
  const g2 = await newPage('guest 2');
  const users = [];
  for (const g of [g1, g2]) {
    await g.goto(url + '/');
    await Promise.all([g.waitForNavigation(), g.click('#guest-button')]);
    r = await registered(g);
    const m = /^sip:(guest-\d+)@ims\.test \(guest\)$/.exec(r.impu);
    result(m && r.state === 'registered' && r.status === '(200 OK)',
      `a guest signs in and registers an IMPU from the range (${r.impu})`, JSON.stringify(r));
    users.push(m ? m[1] : null);
  }
  if (users[0] && users[1] && users[0] !== users[1] && await step('guest-call', users[1])) {
    const rang = await g2.waitForSelector('#incoming:not([hidden])', { timeout: 20000 })
      .then(() => true).catch(() => false);
    const from = rang ? await text(g2, 'incoming-from') : '';
    result(rang && from === 'sip:uac@ims.test',
      `the call from the SIP phone to sip:${users[1]}@ims.test rings on that guest's page`, from);
    result(await g1.isHidden('#incoming') && (await callState(g1)).state === 'idle',
      'the other guest of the range is not called', JSON.stringify(await callState(g1)));
    if (rang) {
      await g2.click('#answer-button');
      let c = await waitCall(g2, ['confirmed', 'failed', 'ended'], 15);
      result(c.state === 'confirmed' && /in call with sip:uac@ims\.test/.test(c.text),
        'the guest presses Answer: the call is established', JSON.stringify(c));
      if (c.state === 'confirmed') {
        const s = await flowing(g2);
        result(s.sent > 0 && s.received > 0 && close(s.sent, s.received),
          'the guest\'s answered call: audio both ways (getStats: sent and received close)', JSON.stringify(s));
        const p = await playing(g2);
        result(p.tracks === 1 && p.live && !p.paused, 'the caller\'s audio is played', JSON.stringify(p));
        c = await waitCall(g2, ['ended', 'failed'], 25);
        result(c.state === 'ended' && /by sip:uac@ims\.test/.test(c.text),
          'the caller hangs up: the page shows the call ended by the caller', JSON.stringify(c));
      }
    }
  }
  // 3. The guest calls the echo (originating from a range IMPU).
  if (await step('echo-guest')) await callEcho(g2, 'the guest');

  // 4. The called guest signs out (its local registration ends).
  await Promise.all([g2.waitForNavigation(), g2.click('#signout-button')]);
  result(g2.url() === url + '/', 'the guest signs out (back at the sign-in page)', g2.url());
  if (users[1]) await step('signedout', users[1]);
  await Promise.all([g1.waitForNavigation(), g1.click('#signout-button')]);
  await Promise.all([alice.waitForNavigation(), alice.click('#signout-button')]);
} catch (e) {
  result(false, 'browser scenario ran to the end', String(e));
} finally {
  fs.writeFileSync(path.join(stepDir, 'want'), 'done');
  await browser.close();
}
process.exit(failed ? 1 : 0);
