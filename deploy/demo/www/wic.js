// The demo WIC: fetches a token from this WWSF (POST /token, the session
// cookie), registers with JsSIP over WSS sending it as
// "Authorization: Bearer <token>" on every request (authorization_jwt),
// renews it before it expires (a fresh token, then a REGISTER refresh, as
// the eP-CSCF ends a token registration whose token expires), shows the
// registration state and the MESSAGEs it receives, makes and answers audio
// calls (the eP-CSCF's IMS-ALG has the eIMS-AGW terminate DTLS-SRTP; the
// page shows the call state and the browser's own RTP packet counters),
// and un-registers on sign-out.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const log = (s) => {
    $('log').textContent += new Date().toLocaleTimeString() + '  ' + s + '\n';
  };
  const setState = (state, text, status) => {
    $('state').dataset.state = state;
    $('state').textContent = text;
    $('status').textContent = status ? '(' + status + ')' : '';
  };
  let ua = null;
  let renewTimer = null;
  let registeredOnce = false;
  let session = null;     // the call (one at a time)
  let statsTimer = null;

  async function fetchToken() {
    const r = await fetch('/token', { method: 'POST', credentials: 'same-origin' });
    if (r.status === 401) {
      location.href = '/';
      throw new Error('not signed in');
    }
    if (!r.ok) throw new Error('token request failed: ' + r.status);
    return r.json();
  }

  function showToken(t) {
    $('token').textContent = 'ES256, issued by WWSF "' + t.wwsf + '", valid until ' +
      new Date(t.exp * 1000).toLocaleTimeString();
  }

  // Renews the token a while before it expires: a third of its lifetime,
  // at most a minute.
  function scheduleRenewal(t) {
    const life = t.exp - t.iat;
    const margin = Math.min(60, Math.floor(life / 3));
    const delay = Math.max(1, t.exp - margin - Math.floor(Date.now() / 1000)) * 1000;
    clearTimeout(renewTimer);
    renewTimer = setTimeout(renew, delay);
  }

  async function renew() {
    try {
      const t = await fetchToken();
      ua.set('authorization_jwt', 'Bearer ' + t.token);
      showToken(t);
      scheduleRenewal(t);
      log('token renewed; refreshing the registration');
      ua.register();
    } catch (e) {
      log('token renewal failed: ' + e.message);
      renewTimer = setTimeout(renew, 5000);
    }
  }


  // --- Calls ------------------------------------------------------------
  // Audio only, one transport (max-bundle, rtcp-mux), no STUN or TURN
  // server: the eIMS-AGW is ICE-lite on an address the browser reaches.
  const PC_CONFIG = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
  const MEDIA = { audio: true, video: false };

  const setCall = (state, text, status) => {
    $('call-state').dataset.state = state;
    $('call-state').textContent = text;
    $('call-status').textContent = status ? '(' + status + ')' : '';
  };
  const inCall = (yes) => {
    $('call-button').disabled = yes || !ua || !ua.isRegistered();
    $('hangup-button').disabled = !yes;
  };

  // The browser's own RTP counters (getStats), once a second during a call.
  async function showStats() {
    const pc = session && session.connection;
    if (!pc || pc.signalingState === 'closed') return;
    let sent = 0, received = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.kind !== 'audio') return;
      if (r.type === 'outbound-rtp') sent += r.packetsSent || 0;
      if (r.type === 'inbound-rtp') received += r.packetsReceived || 0;
    });
    $('media').dataset.sent = sent;
    $('media').dataset.received = received;
    $('media').textContent = 'RTP packets sent ' + sent + ', received ' + received;
  }

  function playRemote(pc) {
    pc.addEventListener('track', (e) => {
      if (e.track.kind !== 'audio') return;
      $('remote').srcObject = e.streams[0] || new MediaStream([e.track]);
      $('remote').play().catch((err) => log('cannot play the remote audio: ' + err.message));
    });
  }

  // Follows a call, outgoing or incoming, until it ends.
  function follow(s) {
    session = s;
    inCall(true);
    const peer = s.remote_identity.uri.toString();
    s.on('progress', (e) => {
      if (s.direction === 'outgoing') {
        setCall('progress', 'ringing', e.response ? e.response.status_code + ' ' + e.response.reason_phrase : '');
      }
    });
    s.on('confirmed', () => {
      log('call with ' + peer + ' established');
      $('media').dataset.sent = $('media').dataset.received = 0;
      setCall('confirmed', 'in call with ' + peer);
      clearInterval(statsTimer);
      statsTimer = setInterval(showStats, 1000);
      showStats();
    });
    const over = (state, what) => (e) => {
      const who = e.originator === 'local' ? 'by you' : e.originator === 'remote' ? 'by ' + peer : 'by the system';
      const status = e.message && e.message.status_code ? e.message.status_code + ' ' + e.message.reason_phrase : '';
      log('call ' + what + ' ' + who + ': ' + e.cause + (status ? ' (' + status + ')' : ''));
      setCall(state, 'call ' + what + ' ' + who, e.cause);
      clearInterval(statsTimer);  // the counters of the call stay shown
      if (session === s) session = null;
      $('incoming').hidden = true;
      $('remote').srcObject = null;
      inCall(false);
    };
    s.on('ended', over('ended', 'ended'));
    s.on('failed', over('failed', 'failed'));
  }

  $('call-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!ua || session) return;
    const target = $('target').value.trim();
    let s;
    try {
      s = ua.call(target, {
        mediaConstraints: MEDIA, pcConfig: PC_CONFIG,
        eventHandlers: { peerconnection: (e) => playRemote(e.peerconnection) },
      });
    } catch (e) {
      setCall('failed', 'cannot call', e.message);
      return;
    }
    log('calling ' + target);
    setCall('calling', 'calling ' + s.remote_identity.uri.toString());
    follow(s);
  });
  $('hangup-button').addEventListener('click', () => { if (session) session.terminate(); });
  $('answer-button').addEventListener('click', () => {
    if (!session || session.direction !== 'incoming') return;
    $('incoming').hidden = true;
    setCall('answering', 'answering');
    $('hangup-button').disabled = false;
    session.answer({ mediaConstraints: MEDIA, pcConfig: PC_CONFIG });
  });
  $('decline-button').addEventListener('click', () => {
    if (session && session.direction === 'incoming') session.terminate({ status_code: 486 });
  });

  function incoming(e) {
    const s = e.session;
    const from = e.request.from.uri.toString();
    if (session) {  // one call at a time
      s.terminate({ status_code: 486 });
      log('call from ' + from + ' refused: busy');
      return;
    }
    log('incoming call from ' + from);
    s.on('peerconnection', (p) => playRemote(p.peerconnection));
    follow(s);
    setCall('incoming', 'incoming call from ' + from);
    $('incoming-from').textContent = from;
    $('incoming').hidden = false;
    $('hangup-button').disabled = true;
  }

  async function start() {
    let t;
    try {
      t = await fetchToken();
    } catch (e) {
      setState('failed', 'no token', e.message);
      return;
    }
    $('impu').textContent = t.impu + (t.guest ? ' (guest)' : '');
    $('wss').textContent = t.wss;
    const https = t.wss.replace(/^wss:/, 'https:') + '/';
    $('cert-link').href = https;
    $('cert-link').textContent = https;
    showToken(t);
    if (location.search.includes('debug')) JsSIP.debug.enable('JsSIP:*');
    ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(t.wss)],
      uri: t.impu,
      authorization_jwt: 'Bearer ' + t.token,
      register: true,
      register_expires: 600,
      session_timers: false,
      connection_recovery_min_interval: 5,
      connection_recovery_max_interval: 60,
      user_agent: 'demo-wwsf WIC (JsSIP ' + JsSIP.version + ')',
    });
    ua.on('connecting', () => setState('connecting', 'connecting'));
    ua.on('connected', () => { log('WebSocket open'); setState('registering', 'registering'); });
    ua.on('disconnected', () => {
      log('WebSocket closed');
      setState('disconnected', 'disconnected');
      inCall(!!session);
      if (!registeredOnce) $('cert-hint').hidden = false;
    });
    ua.on('registered', (e) => {
      registeredOnce = true;
      $('cert-hint').hidden = true;
      const r = e.response;
      log('registered: ' + r.status_code + ' ' + r.reason_phrase);
      setState('registered', 'registered', r.status_code + ' ' + r.reason_phrase);
      inCall(!!session);
    });
    ua.on('unregistered', (e) => {
      const r = e.response;
      log('unregistered' + (r ? ': ' + r.status_code + ' ' + r.reason_phrase : ''));
      setState('unregistered', 'not registered', r ? r.status_code + ' ' + r.reason_phrase : '');
      inCall(!!session);
    });
    ua.on('registrationFailed', (e) => {
      const r = e.response;
      const status = r ? r.status_code + ' ' + r.reason_phrase : e.cause;
      log('registration failed: ' + status);
      setState('failed', 'registration failed', status);
      inCall(!!session);
    });
    ua.on('newMessage', (e) => {
      if (e.originator !== 'remote') return;
      const li = document.createElement('li');
      li.textContent = e.request.from.uri.toString() + ': ' + (e.request.body || '');
      $('messages').appendChild(li);
      log('MESSAGE from ' + e.request.from.uri.toString());
    });
    ua.on('newRTCSession', (e) => { if (e.originator === 'remote') incoming(e); });
    scheduleRenewal(t);
    ua.start();
  }

  // Sign-out: un-register first (briefly waiting for the answer).
  $('signout').addEventListener('submit', (ev) => {
    if (!ua || !ua.isRegistered()) return;
    ev.preventDefault();
    clearTimeout(renewTimer);
    let left = false;
    const done = () => {
      if (left) return;
      left = true;
      ua.stop();
      ev.target.submit();
    };
    ua.once('unregistered', done);
    setTimeout(done, 2000);
    ua.unregister();
  });

  start();
})();
