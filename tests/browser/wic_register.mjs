// Drives Debian's Chromium (playwright-core, never a downloaded browser)
// through the WIC page: register with JsSIP over WSS, wrong password,
// refused origin, receive a MESSAGE, un-register.  Prints TAP lines.
// usage: node wic_register.mjs PAGE_URL BAD_ORIGIN_PAGE_URL WSS_URL STEPFILE
// The orchestrator (tests/integ/browser_register.py) writes "message" to
// STEPFILE when the page should expect the MESSAGE.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [pageUrl, badPageUrl, wss, stepFile] = process.argv.slice(2);
let n = 0, failed = 0;
const result = (ok, name, ...detail) => {
  n++;
  if (ok) console.log(`ok ${n} - ${name}`);
  else { failed++; console.log(`not ok ${n} - ${name}`); detail.forEach((d) => console.log(`#   ${d}`)); }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

  let r = await page.evaluate(([w]) => window.wic.register(w, 'bob', 'wrong-password'), [wss]);
  result(!r.ok && r.status === 401, 'JsSIP with a wrong password: registration fails on 401', JSON.stringify(r));
  await page.evaluate(() => window.wic.stop());
  await sleep(300);

  r = await page.evaluate(([w]) => window.wic.register(w, 'alice', 'alice-secret'), [wss]);
  result(r.ok && r.status === 200, 'JsSIP registers through the eP-CSCF (digest, 200 OK)', JSON.stringify(r));

  fs.writeFileSync(stepFile, 'message');
  const got = await page.waitForFunction(() => window.wic.messages.length > 0, null, { timeout: 15000 })
    .then(() => page.evaluate(() => window.wic.messages[0])).catch((e) => 'timeout: ' + e.message);
  result(String(got).includes('hello from sipp'), 'a MESSAGE from a SIP user reaches JsSIP', String(got));

  r = await page.evaluate(() => window.wic.unregister());
  result(r.ok && r.status === 200, 'JsSIP un-registers (200 OK)', JSON.stringify(r));
  await page.evaluate(() => window.wic.stop());

  const bad = await ctx.newPage();
  await bad.goto(badPageUrl);
  await bad.waitForFunction(() => window.wic !== undefined);
  const probe = await bad.evaluate(([w]) => window.wic.probe(w), [wss]);
  result(probe === 'error', 'a page from an unlisted origin cannot open the WebSocket', probe);
  const good = await page.evaluate(([w]) => window.wic.probe(w), [wss]);
  result(good === 'open', 'the listed origin still can', good);
} catch (e) {
  result(false, 'browser scenario ran to the end', String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
