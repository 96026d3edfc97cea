// Gives an SDP offer written by the IMS-ALG to Debian's Chromium
// (setRemoteDescription) and writes Chromium's own answer, taken after ICE
// gathering completed: the terminating-direction goldens use real browser
// answers, and an offer Chromium refuses fails here.
// usage: node answer_chromium.mjs OFFER.sdp ANSWER.sdp [max-bundle|balanced]
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../browser/package.json'));
const { chromium } = require('playwright-core');

const [offerFile, answerFile, bundlePolicy = 'max-bundle'] = process.argv.slice(2);
const offer = fs.readFileSync(offerFile, 'utf8');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-gpu'],
});
// getUserMedia needs a secure context: an empty page from 127.0.0.1.
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!DOCTYPE html><title>answer</title>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
let code = 0;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const r = await page.evaluate(async ([sdp, policy]) => {
    try {
      const pc = new RTCPeerConnection({ bundlePolicy: policy, rtcpMuxPolicy: 'require' });
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const kinds = pc.getTransceivers().map((t) => t.receiver.track.kind);
      if (kinds.length) {
        const s = await navigator.mediaDevices.getUserMedia({
          audio: kinds.includes('audio'), video: kinds.includes('video') });
        for (const t of pc.getTransceivers()) {
          const track = s.getTracks().find((x) => x.kind === t.receiver.track.kind);
          if (track && t.currentDirection !== 'stopped') {
            await t.sender.replaceTrack(track);
            t.direction = 'sendrecv';
          }
        }
      }
      const gathered = new Promise((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve();
        });
      });
      await pc.setLocalDescription(await pc.createAnswer());
      await Promise.race([gathered, new Promise((res) => setTimeout(res, 5000))]);
      return { sdp: pc.localDescription.sdp };
    } catch (e) {
      return { error: String(e) };
    }
  }, [offer, bundlePolicy]);
  if (r.error) {
    console.error('chromium refused the offer: ' + r.error);
    code = 1;
  } else {
    fs.writeFileSync(answerFile, r.sdp);
    console.log('chromium ' + browser.version() + ' answered ' + answerFile);
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(code);
