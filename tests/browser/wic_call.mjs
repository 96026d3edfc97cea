// Drives Debian's Chromium (playwright-core) through the WIC page for
// calls: JsSIP registers through the eP-CSCF and calls a SIPp RTP echo
// behind Kamailio; media through the eIMS-AGW, judged by the browser's
// own getStats().  Prints TAP lines.
// usage: node wic_call.mjs PAGE_URL WSS_URL STEPDIR
// Before each case the driver writes its name to STEPDIR/want and waits
// for STEPDIR/ready-NAME: the orchestrator (tests/integ/browser_call.py)
// starts the SIPp peer the case needs (and kills the AGW for "agw-loss").
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [pageUrl, wss, stepDir] = process.argv.slice(2);
let n = 0, failed = 0;
const result = (ok, name, ...detail) => {
  n++;
  if (ok) console.log(`ok ${n} - ${name}`);
  else { failed++; console.log(`not ok ${n} - ${name}`); }
  detail.forEach((d) => console.log(`#   ${d}`));
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function step(name, secs = 30) {
  // Written aside and renamed, so that the orchestrator never reads it half written.
  fs.writeFileSync(path.join(stepDir, 'want.tmp'), name);
  fs.renameSync(path.join(stepDir, 'want.tmp'), path.join(stepDir, 'want'));
  const ready = path.join(stepDir, 'ready-' + name);
  for (let i = 0; i < secs * 10; i++) {
    if (fs.existsSync(ready)) return true;
    await sleep(100);
  }
  return false;
}

// Polls getStats until both directions of `kind` passed `min` packets.
async function flowing(page, kind, min = 50, secs = 15) {
  let s = null;
  for (let i = 0; i < secs * 4; i++) {
    s = await page.evaluate(() => window.wic.stats());
    if ((s.sent[kind] || 0) >= min && (s.received[kind] || 0) >= min) break;
    await sleep(250);
  }
  return s;
}

const close = (a, b) => b >= a / 2 && a >= b / 2;

async function waitEnded(page, secs = 10) {
  return page.waitForFunction(() => window.wic.ended, null, { timeout: secs * 1000 })
    .then(() => page.evaluate(() => window.wic.ended)).catch(() => null);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
    '--ignore-certificate-errors', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
});
try {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (process.env.WIC_DEBUG) console.log('# console: ' + m.text()); });
  page.on('pageerror', (e) => console.log('# pageerror: ' + e));
  await page.goto(pageUrl + (process.env.WIC_DEBUG ? '?debug' : ''));
  await page.waitForFunction(() => window.wic !== undefined);
  let r = await page.evaluate(([w]) => window.wic.register(w, 'alice', 'alice-secret'), [wss]);
  result(r.ok && r.status === 200, 'JsSIP registers through the eP-CSCF', JSON.stringify(r));

  // 1. Audio call to the echo; the browser hangs up.
  if (await step('echo')) {
    r = await page.evaluate(() => window.wic.call('uas', { bundlePolicy: 'max-bundle' }));
    result(r.ok, 'audio call to the SIPp echo is answered (bundlePolicy max-bundle)', JSON.stringify(r));
    if (r.ok) {
      const s = await flowing(page, 'audio');
      result((s.sent.audio || 0) > 0 && (s.received.audio || 0) > 0 && close(s.sent.audio, s.received.audio),
        'audio flows both ways through the AGW (browser getStats: sent and received close)', JSON.stringify(s));
      await page.evaluate(() => window.wic.hangup());
      const e = await waitEnded(page);
      result(e && e.originator === 'local', 'the browser hangs up (BYE)', JSON.stringify(e));
    }
  }

  // 1b. Audio and video (bundlePolicy balanced: one transport per m-line).
  if (await step('video')) {
    r = await page.evaluate(() => window.wic.call('uas', { video: true, bundlePolicy: 'balanced' }));
    result(r.ok, 'audio+video call to the SIPp echo is answered (balanced)', JSON.stringify(r));
    if (r.ok) {
      const s = await flowing(page, 'video', 30);
      const a = await flowing(page, 'audio', 30);
      result((s.sent.video || 0) > 0 && (s.received.video || 0) > 0 && (a.received.audio || 0) > 0,
        'audio and video both flow both ways (browser getStats)', JSON.stringify(s));
      await page.evaluate(() => window.wic.hangup());
      await waitEnded(page);
    }
  }

  // 1c. Audio and video in one BUNDLE transport (bundlePolicy max-bundle).
  if (await step('video-mb')) {
    r = await page.evaluate(() => window.wic.call('uas', { video: true, bundlePolicy: 'max-bundle' }));
    result(r.ok, 'audio+video call to the SIPp echo is answered (max-bundle)', JSON.stringify(r));
    if (r.ok) {
      const s = await flowing(page, 'video', 30);
      const a = await flowing(page, 'audio', 30);
      result((s.sent.video || 0) > 0 && (s.received.video || 0) > 0 && (a.received.audio || 0) > 0,
        'max-bundle: audio and video both flow both ways (browser getStats)', JSON.stringify(s));
      await page.evaluate(() => window.wic.hangup());
      await waitEnded(page);
    }
  }

  // 1d. Early media: 183 with SDP (the echo already sends), then 200.
  if (await step('early')) {
    const pending = page.evaluate(() => window.wic.call('uas', {}));
    await sleep(1500);
    const early = await page.evaluate(() => window.wic.stats());
    r = await pending;
    result(r.ok, 'a call with early media (183 with SDP, then 200) is answered', JSON.stringify(r));
    result((early.received.audio || 0) > 0, 'early media: audio arrives before the 200', JSON.stringify(early));
    if (r.ok) {
      const s = await flowing(page, 'audio', 30);
      result((s.received.audio || 0) > (early.received.audio || 0), 'and keeps flowing after it',
        JSON.stringify(s));
      await page.evaluate(() => window.wic.hangup());
      await waitEnded(page);
    }
  }

  // 2. The far end hangs up.
  if (await step('far-bye')) {
    r = await page.evaluate(() => window.wic.call('uas', {}));
    result(r.ok, 'second call answered', JSON.stringify(r));
    const e = r.ok ? await waitEnded(page, 15) : null;
    result(e && e.originator === 'remote' && e.cause === 'Terminated', 'BYE from the far end ends the call in the browser',
      JSON.stringify(e));
  }

  // 3. CANCEL before the answer.
  if (await step('cancel')) {
    r = await page.evaluate(() => window.wic.call('uas', { cancelOn: 'progress' }));
    result(!r.ok && r.cause === 'Canceled', 'CANCEL before the answer: the call fails as Canceled', JSON.stringify(r));
  }

  // 4. Busy.
  if (await step('busy')) {
    r = await page.evaluate(() => window.wic.call('uas', {}));
    result(!r.ok && r.cause === 'Busy' && r.status === 486, '486 from the far end: the call fails as Busy',
      JSON.stringify(r));
  }

  // 5. Terminating: a SIPp UAC (with RTP echo) calls the browser.
  const incoming = page.evaluate(() => window.wic.answerNext({}));
  if (await step('terminating')) {
    r = await Promise.race([incoming, sleep(20000).then(() => ({ ok: false, cause: 'no INVITE' }))]);
    result(r.ok, 'a call from a SIP phone reaches the browser and is answered', JSON.stringify(r));
    if (r.ok) {
      const s = await flowing(page, 'audio', 30);
      result((s.received.audio || 0) > 0 && (s.sent.audio || 0) > 0,
        'terminating call: audio both ways (browser getStats)', JSON.stringify(s));
      const e = await waitEnded(page, 20);
      result(e && e.originator === 'remote', 'the caller hangs up: BYE reaches the browser', JSON.stringify(e));
    }
  }

  // 6. The AGW dies mid-call: BYE to the browser; a new call gets the other AGW.
  if (await step('agw-call')) {
    r = await page.evaluate(() => window.wic.call('uas', {}));
    result(r.ok, 'call answered before the AGW is killed', JSON.stringify(r));
    if (r.ok) {
      await flowing(page, 'audio', 20);
      await step('agw-kill');
      const e = await waitEnded(page, 10);
      result(e && e.originator === 'remote', 'AGW killed mid-call: the browser gets BYE', JSON.stringify(e));
    }
  }
  if (await step('agw-second')) {
    r = await page.evaluate(() => window.wic.call('uas', {}));
    result(r.ok, 'a new call is served by the second AGW', JSON.stringify(r));
    if (r.ok) {
      const s = await flowing(page, 'audio');
      result((s.sent.audio || 0) > 0 && (s.received.audio || 0) > 0, 'its audio flows both ways', JSON.stringify(s));
      await page.evaluate(() => window.wic.hangup());
      await waitEnded(page);
    }
  }
  // 7. Browser to browser through IMS (two pages), with hold and resume
  // by re-INVITE.
  if (await step('b2b')) {
    const bob = await ctx.newPage();
    bob.on('pageerror', (e) => console.log('# pageerror (bob): ' + e));
    await bob.goto(pageUrl);
    await bob.waitForFunction(() => window.wic !== undefined);
    r = await bob.evaluate(([w]) => window.wic.register(w, 'bob', 'bob-secret'), [wss]);
    result(r.ok, 'a second page registers as bob', JSON.stringify(r));
    const answered = bob.evaluate(() => window.wic.answerNext({}));
    r = await page.evaluate(() => window.wic.call('bob', {}));
    const rb = await Promise.race([answered, sleep(15000).then(() => ({ ok: false, cause: 'timeout' }))]);
    result(r.ok && rb.ok, 'alice calls bob: both browsers confirm the call', JSON.stringify([r, rb]));
    if (r.ok && rb.ok) {
      const sa = await flowing(page, 'audio');
      const sb = await flowing(bob, 'audio');
      result((sa.received.audio || 0) > 0 && (sb.received.audio || 0) > 0,
        'browser to browser: each receives the other (two AGW contexts)', JSON.stringify([sa, sb]));
      const held = await page.evaluate(() => window.wic.hold());
      result(held === true, 'hold: the re-INVITE (sendonly) completes', String(held));
      await sleep(500);
      const resumed = await page.evaluate(() => window.wic.unhold());
      result(resumed === true, 'resume: the re-INVITE (sendrecv) completes', String(resumed));
      const before = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      await sleep(1500);
      const after = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      result(after > before + 20, 'after resume bob receives audio again', `${before} -> ${after}`);
      const updated = await page.evaluate(() => window.wic.update());
      result(updated === true, 'a new offer in UPDATE is answered through both IMS-ALG legs', String(updated));
      const b2 = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      await sleep(1500);
      const a2 = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      result(a2 > b2 + 20, 'after the UPDATE audio still flows', `${b2} -> ${a2}`);
      const restarted = await page.evaluate(() => window.wic.iceRestart());
      result(restarted === true, 'a re-INVITE with an ICE restart completes through both legs', String(restarted));
      const b3 = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      await sleep(2000);
      const a3 = (await bob.evaluate(() => window.wic.stats())).received.audio || 0;
      result(a3 > b3 + 20, 'after the ICE restart audio still flows', `${b3} -> ${a3}`);
      await page.evaluate(() => window.wic.hangup());
      const e = await waitEnded(bob, 10);
      result(e && e.originator === 'remote', "alice hangs up: bob's browser gets BYE", JSON.stringify(e));
    }
    await bob.evaluate(() => window.wic.stop());
  }
  await page.evaluate(() => window.wic.stop());
  await sleep(300);
} catch (e) {
  result(false, 'browser scenario ran to the end', String(e));
} finally {
  fs.writeFileSync(path.join(stepDir, 'want.tmp'), 'done');
  fs.renameSync(path.join(stepDir, 'want.tmp'), path.join(stepDir, 'want'));
  await browser.close();
}
process.exit(failed ? 1 : 0);
