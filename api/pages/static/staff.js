/* The staff session shared by the advisor console and the supervisor page.
 *
 * Staff.start({role, onReady, onLogout}) shows the login form (static/_staff_login.html)
 * until a token of `role` is held, then calls onReady(me). The token lives in
 * sessionStorage under "ticketero.<role>.token": a reload keeps the session, closing the
 * tab or "log out" ends it; a 401 from any call also ends it.
 * Staff.call(path, opts)  Ticketero.api with the bearer token and the page language.
 * Staff.fail(result, known)  the text for a failed call: a known case from the catalogue
 *                            (known[status] = key), else the API's JSON message.
 * Staff.time(iso)         a local HH:MM of an ISO instant.
 */
(function () {
  'use strict';
  var T = window.Ticketero;
  var role = '';
  var key = '';
  var handlers = {};

  function stored() {
    try { return window.sessionStorage.getItem(key); } catch (err) { return null; }
  }
  function remember(token) {
    try { window.sessionStorage.setItem(key, token); } catch (err) { /* private mode */ }
  }
  function forget() {
    try { window.sessionStorage.removeItem(key); } catch (err) { /* private mode */ }
  }

  function call(path, options) {
    var opts = Object.assign({}, options || {});
    var token = stored();
    opts.headers = Object.assign({ 'Accept-Language': T.lang }, opts.headers || {});
    if (token) { opts.headers.Authorization = 'Bearer ' + token; }
    return T.api(path, opts).then(function (result) {
      if (result.status === 401 && token) { end('staff.expired'); }
      return result;
    });
  }

  function fail(result, known) {
    var cases = known || {};
    if (result.status === 401) { return T.msg('staff.expired'); }
    if (result.status === 403 && !cases[403]) { return T.msg('staff.forbidden'); }
    var data = result.data || {};
    if (cases[result.status] && (data.currentStatus || cases[result.status] !== 'advisor.err_state')) {
      return T.msg(cases[result.status], { status: T.msg('ticket_status.' + data.currentStatus) });
    }
    return T.errorText(result);
  }

  function time(iso) {
    if (!iso) { return '—'; }
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return '—'; }
    return when.toLocaleTimeString(T.lang === 'en' ? 'en-GB' : 'es-CL', { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function show(loggedIn) {
    document.getElementById('login').hidden = loggedIn;
    document.getElementById(handlers.main).hidden = !loggedIn;
  }

  function end(reason) {
    forget();
    show(false);
    if (handlers.onLogout) { handlers.onLogout(); }
    var error = document.getElementById('login-error');
    error.textContent = reason ? T.msg(reason) : '';
    document.getElementById('login-username').focus();
  }

  function ready() {
    return call('/api/auth/me').then(function (result) {
      if (!result.ok) { if (result.status !== 401) { end(); } return; }
      if (result.data.role !== role) { end('staff.wrong_role'); return; }
      show(true);
      handlers.onReady(result.data);
    });
  }

  function login(event) {
    event.preventDefault();
    var user = document.getElementById('login-username');
    var pass = document.getElementById('login-password');
    var error = document.getElementById('login-error');
    var button = document.getElementById('login-submit');
    if (!user.value.trim() || !pass.value) { error.textContent = T.msg('staff.missing'); return; }
    button.disabled = true;
    error.textContent = '';
    T.api('/api/auth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept-Language': T.lang },
      body: new URLSearchParams({ username: user.value.trim(), password: pass.value }).toString()
    }).then(function (result) {
      button.disabled = false;
      if (!result.ok) {
        error.textContent = result.status === 401 ? T.msg('staff.bad_login') : T.errorText(result);
        pass.value = '';
        pass.focus();
        return;
      }
      pass.value = '';
      remember(result.data.access_token);
      ready();
    });
  }

  function start(options) {
    handlers = options;
    role = options.role;
    key = 'ticketero.' + role + '.token';
    document.getElementById('login-form').addEventListener('submit', login);
    document.getElementById('logout').addEventListener('click', function () { end('staff.logged_out'); });
    if (stored()) { ready(); } else { show(false); }
  }

  window.Staff = { start: start, call: call, fail: fail, time: time };
})();
