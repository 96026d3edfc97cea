// The demo WIC: fetches a token from this WWSF (POST /token, the session
// cookie), registers with JsSIP over WSS sending it as
// "Authorization: Bearer <token>" on every request (authorization_jwt),
// renews it before it expires (a fresh token, then a REGISTER refresh, as
// the eP-CSCF ends a token registration whose token expires), shows the
// registration state and the MESSAGEs it receives, and un-registers on
// sign-out.
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
      if (!registeredOnce) $('cert-hint').hidden = false;
    });
    ua.on('registered', (e) => {
      registeredOnce = true;
      $('cert-hint').hidden = true;
      const r = e.response;
      log('registered: ' + r.status_code + ' ' + r.reason_phrase);
      setState('registered', 'registered', r.status_code + ' ' + r.reason_phrase);
    });
    ua.on('unregistered', (e) => {
      const r = e.response;
      log('unregistered' + (r ? ': ' + r.status_code + ' ' + r.reason_phrase : ''));
      setState('unregistered', 'not registered', r ? r.status_code + ' ' + r.reason_phrase : '');
    });
    ua.on('registrationFailed', (e) => {
      const r = e.response;
      const status = r ? r.status_code + ' ' + r.reason_phrase : e.cause;
      log('registration failed: ' + status);
      setState('failed', 'registration failed', status);
    });
    ua.on('newMessage', (e) => {
      if (e.originator !== 'remote') return;
      const li = document.createElement('li');
      li.textContent = e.request.from.uri.toString() + ': ' + (e.request.body || '');
      $('messages').appendChild(li);
      log('MESSAGE from ' + e.request.from.uri.toString());
    });
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
