// Loads capture.html in Debian's Chromium (playwright-core from
// tests/browser/node_modules; never a downloaded browser) and waits until
// the page has posted its offers to the capture server.
// usage: node capture_chromium.mjs PAGE_URL
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../browser/package.json'));
const { chromium } = require('playwright-core');

const [pageUrl] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('pageerror: ' + e));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.captureDone === true, null, { timeout: 60000 });
  console.log('chromium ' + browser.version());
} finally {
  await browser.close();
}
