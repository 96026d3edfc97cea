// The IMS-ALG's answers to real Chromium offers, judged by Chromium: each
// scenario creates an offer in Debian's Chromium (playwright-core, fake
// devices), runs it through the ALG (test_ims_alg --w3-answer: canned AGW
// and canned IMS phone) and applies the ALG's answer with
// setRemoteDescription in the same RTCPeerConnection.  Prints TAP lines.
// (The terminating direction, Chromium answering the ALG's offers, is in
// the goldens: tests/golden/capture/answer_chromium.mjs.)
// usage: node alg_answers.mjs PATH/TO/test_ims_alg
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [tool] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alg-answers-'));
const scenarios = [
  { name: 'audio', audio: true, video: false, dc: false, policy: 'balanced', bundle: true },
  { name: 'audio+video max-bundle', audio: true, video: true, dc: false, policy: 'max-bundle', bundle: true },
  { name: 'audio+video balanced', audio: true, video: true, dc: false, policy: 'balanced', bundle: true },
  { name: 'audio+video balanced, BUNDLE-less mode', audio: true, video: true, dc: false, policy: 'balanced', bundle: false },
  { name: 'audio + data channel (rejected)', audio: true, video: false, dc: true, policy: 'max-bundle', bundle: true },
];
let n = 0, failed = 0;
const result = (ok, name, detail) => {
  n++;
  if (ok) console.log(`ok ${n} - ${name}`);
  else { failed++; console.log(`not ok ${n} - ${name}`); if (detail) console.log(`#   ${detail}`); }
};

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!DOCTYPE html><title>alg</title>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const [i, sc] of scenarios.entries()) {
    const offer = await page.evaluate(async (s) => {
      const pc = new RTCPeerConnection({ bundlePolicy: s.policy, rtcpMuxPolicy: 'require' });
      window['pc' + s.i] = pc;
      const st = await navigator.mediaDevices.getUserMedia({ audio: s.audio, video: s.video });
      st.getTracks().forEach((t) => pc.addTrack(t, st));
      if (s.dc) pc.createDataChannel('chat');
      const done = new Promise((r) => pc.addEventListener('icegatheringstatechange',
        () => { if (pc.iceGatheringState === 'complete') r(); }));
      await pc.setLocalDescription(await pc.createOffer());
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      return pc.localDescription.sdp;
    }, { ...sc, i });
    const offerFile = path.join(tmp, `offer${i}.sdp`), answerFile = path.join(tmp, `answer${i}.sdp`);
    fs.writeFileSync(offerFile, offer);
    let answer;
    try {
      execFileSync(tool, ['--w3-answer', offerFile, answerFile].concat(sc.bundle ? [] : ['nobundle']),
        { stdio: ['ignore', 'ignore', 'pipe'] });
      answer = fs.readFileSync(answerFile, 'utf8');
    } catch (e) {
      result(false, `${sc.name}: the ALG answers Chromium's offer`, String(e.stderr || e));
      continue;
    }
    const r = await page.evaluate(async ([k, sdp]) => {
      const pc = window['pc' + k];
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
        return { ok: true, mids: pc.getTransceivers().map((t) => `${t.mid}:${t.currentDirection}`) };
      } catch (e) { return { ok: false, error: String(e) }; } finally { pc.close(); }
    }, [i, answer]);
    result(r.ok, `${sc.name}: Chromium accepts the ALG's answer`, r.error || r.mids.join(' '));
  }
} catch (e) {
  result(false, 'scenarios ran to the end', String(e));
} finally {
  await browser.close();
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
