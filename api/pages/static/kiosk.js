/* The kiosk: choose a queue, type the RUT, get the number (static/rut.js checks the RUT).
 * Data from <body data-branch data-queues-url>; texts from Ticketero.msg (kiosk.*, queue.*).
 * A kiosk device's token arrives once as #token=... and is kept in localStorage. */
(function () {
  'use strict';
  var T = window.Ticketero;
  var body = document.body;
  var branch = body.getAttribute('data-branch');
  var queuesUrl = body.getAttribute('data-queues-url');
  var TOKEN_KEY = 'ticketero.kioskToken.' + branch.toLowerCase();
  var REFRESH_MS = 15000;
  var IDLE_RESET_MS = 90000;

  var $ = function (id) { return document.getElementById(id); };
  var steps = { queue: $('step-queue'), rut: $('step-rut'), ticket: $('step-ticket') };
  var rutInput = $('rut');
  var feedback = $('rut-feedback');
  var submit = $('submit');
  var notice = $('kiosk-notice');
  var chosenQueue = null;
  var idempotencyKey = null;
  var idleTimer = null;

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return 'kiosk-' + Array.prototype.map.call(bytes, function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }

  function storage() {
    try { return window.localStorage; } catch (err) { return null; }
  }

  function takeTokenFromFragment() {
    var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!match) { return; }
    var store = storage();
    if (store) { store.setItem(TOKEN_KEY, decodeURIComponent(match[1])); }
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    showNotice(T.msg('kiosk.token_saved'));
  }

  function kioskToken() {
    var store = storage();
    return store ? store.getItem(TOKEN_KEY) : null;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function show(step) {
    Object.keys(steps).forEach(function (name) { steps[name].hidden = name !== step; });
  }

  function queueText(waiting, range) {
    var count = waiting === 0 ? T.msg('kiosk.waiting_none')
      : waiting === 1 ? T.msg('kiosk.waiting_one')
      : T.msg('kiosk.waiting_many', { count: waiting });
    // no range: nobody serves the queue now, so no time is promised
    var estimate = !range ? T.msg('kiosk.no_advisors')
      : range.high === 0 ? T.msg('kiosk.estimate_now')
      : T.msg('kiosk.estimate', { low: range.low, high: range.high });
    return count + ' · ' + estimate;
  }

  function refreshQueues() {
    if (!queuesUrl || steps.queue.hidden) { return; }
    T.api(queuesUrl).then(function (result) {
      if (!result.ok || !result.data) { return; }
      result.data.queues.forEach(function (q) {
        var button = document.querySelector('.queue-button[data-queue="' + q.queue + '"]');
        if (!button) { return; }
        var meta = button.querySelector('.queue-meta');
        meta.setAttribute('data-waiting', q.waiting);
        meta.textContent = queueText(q.waiting, q.estimatedWaitRange);
      });
    });
  }

  function chooseQueue(button) {
    chosenQueue = button.getAttribute('data-queue');
    document.querySelectorAll('.queue-button').forEach(function (b) {
      b.setAttribute('aria-pressed', b === button ? 'true' : 'false');
    });
    $('chosen').textContent = T.msg('kiosk.chosen', { queue: T.msg('queue.' + chosenQueue) });
    idempotencyKey = null;
    hideMessage();
    show('rut');
    rutInput.focus();
    armIdleReset();
  }

  function setFeedback(state, force) {
    var text = '';
    var invalid = false;
    if (state === 'ok') {
      text = T.msg('kiosk.rut_ok');
    } else if (state === 'bad_check') {
      text = T.msg('kiosk.rut_bad_check'); invalid = true;
    } else if (state === 'invalid') {
      text = T.msg('kiosk.rut_invalid'); invalid = true;
    } else if (state === 'incomplete' || (state === 'empty' && force)) {
      text = force ? T.msg('kiosk.rut_invalid') : T.msg('kiosk.rut_incomplete');
      invalid = !!force;
    }
    feedback.textContent = text;
    feedback.className = state === 'ok' ? 'field-ok' : 'field-error';
    rutInput.setAttribute('aria-invalid', invalid ? 'true' : 'false');
    rutInput.classList.toggle('valid', state === 'ok');
  }

  function onRutInput() {
    var reading = window.TicketeroRut.read(rutInput.value);
    if (rutInput.value !== reading.formatted) {
      rutInput.value = reading.formatted;
    }
    idempotencyKey = null;  // another person, another request
    hideMessage();
    setFeedback(reading.state, false);
    armIdleReset();
  }

  function hideMessage() { $('kiosk-message').hidden = true; }

  function showMessage(kind, title, text) {
    var box = $('kiosk-message');
    box.className = 'alert ' + (kind === 'info' ? 'alert-info' : 'alert-error');
    $('kiosk-message-title').textContent = title;
    $('kiosk-message-text').textContent = text;
    box.hidden = false;
  }

  function send(canonical, withToken) {
    var headers = { 'Idempotency-Key': idempotencyKey };
    var token = withToken ? kioskToken() : null;
    if (token) { headers['X-Kiosk-Token'] = token; }
    return T.api('/api/tickets', {
      method: 'POST',
      headers: headers,
      json: { nationalId: canonical, branchOffice: branch, queue: chosenQueue, language: T.lang }
    }).then(function (result) {
      if (token && (result.status === 401 || result.status === 403)) {
        var store = storage();
        if (store) { store.removeItem(TOKEN_KEY); }
        showNotice(T.msg('kiosk.token_rejected'));
        return send(canonical, false);
      }
      return result;
    });
  }

  function onSubmit(event) {
    event.preventDefault();
    var reading = window.TicketeroRut.read(rutInput.value);
    if (reading.state !== 'ok') {
      setFeedback(reading.state, true);
      rutInput.focus();
      return;
    }
    if (!idempotencyKey) { idempotencyKey = randomKey(); }
    submit.disabled = true;
    submit.textContent = T.msg('kiosk.sending');
    hideMessage();
    send(reading.canonical, true).then(function (result) {
      submit.disabled = false;
      submit.textContent = T.msg('kiosk.submit');
      if (result.ok) {
        showTicket(result.data);
      } else if (result.status === 409 && result.data && result.data.activeTicket) {
        var active = result.data.activeTicket;
        showMessage('info', T.msg('kiosk.active_title'), T.msg('kiosk.active_text', {
          number: active.number, queue: T.msg('queue.' + active.queue)
        }));
      } else if (result.status === 409) {
        showMessage('info', T.msg('kiosk.active_title'), T.msg('kiosk.active_plain'));
      } else {
        showMessage('error', T.msg('kiosk.error_title'), T.errorText(result));
      }
      armIdleReset();
    });
  }

  function showTicket(ticket) {
    $('ticket-number').textContent = ticket.number;
    $('ticket-queue').textContent = T.msg('queue.' + ticket.queue);
    $('ticket-ahead').textContent = ticket.ticketsAhead === null ? '—' : String(ticket.ticketsAhead);
    var range = ticket.estimatedWaitRange;
    $('ticket-estimate').textContent = range
      ? T.msg('kiosk.range', { low: range.low, high: range.high })
      : ticket.estimatedWaitReason === 'NO_ADVISORS' ? T.msg('kiosk.no_advisors') : '—';
    $('ticket-time').textContent = new Date(ticket.createdAt).toLocaleString(
      T.lang === 'en' ? 'en-GB' : 'es-CL', { dateStyle: 'short', timeStyle: 'short' });
    var qr = $('ticket-qr');
    if (ticket.qrCodeUrl && ticket.telegramLink) {
      $('qr-img').src = ticket.qrCodeUrl;
      $('tg-link').href = ticket.telegramLink;
      qr.hidden = false;
    } else {
      qr.hidden = true;
    }
    rutInput.value = '';
    setFeedback('empty', false);
    show('ticket');
    $('ticket-number').focus();
  }

  function reset() {
    chosenQueue = null;
    idempotencyKey = null;
    rutInput.value = '';
    setFeedback('empty', false);
    hideMessage();
    $('qr-img').removeAttribute('src');
    document.querySelectorAll('.queue-button').forEach(function (b) {
      b.setAttribute('aria-pressed', 'false');
    });
    show('queue');
    refreshQueues();
    var first = document.querySelector('.queue-button');
    if (first) { first.focus(); }
  }

  function armIdleReset() {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(reset, IDLE_RESET_MS);
  }

  document.querySelectorAll('.queue-button').forEach(function (button) {
    button.addEventListener('click', function () { chooseQueue(button); });
  });
  rutInput.addEventListener('input', onRutInput);
  $('rut-form').addEventListener('submit', onSubmit);
  $('change-queue').addEventListener('click', reset);
  $('next').addEventListener('click', reset);
  $('print').addEventListener('click', function () { window.print(); });
  takeTokenFromFragment();
  window.setInterval(refreshQueues, REFRESH_MS);
})();
