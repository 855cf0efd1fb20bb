/* The advisor console: the desk view polled every few seconds, the actions on the ticket
 * in hand, the status and "pause after this ticket", keyboard shortcuts (N S C A R T).
 * Texts come from the page's catalogue subset (Ticketero.msg); errors from the catalogue
 * for the known cases, else the API's JSON message. */
(function () {
  'use strict';
  var T = window.Ticketero;
  var S = window.Staff;
  var POLL_MS = 3000;
  var desk = null;
  var timer = null;
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function say(text, isError) {
    var notice = $('notice');
    var error = $('error');
    notice.hidden = true;
    error.hidden = true;
    if (!text) { return; }
    var box = isError ? error : notice;
    box.textContent = text;
    box.hidden = false;
  }

  function ticketPath(reference, action) {
    return '/api/tickets/' + encodeURIComponent(reference) + '/' + action;
  }

  function render(view) {
    desk = view;
    $('who-name').textContent = view.name;
    $('who-desk').textContent = T.msg('advisor.desk', { desk: view.desk });
    $('who-branch').textContent = view.branchOffice;
    var badge = $('status-badge');
    badge.textContent = T.msg('status.' + view.status);
    badge.className = 'badge badge-' + view.status.toLowerCase();

    var ticket = view.ticket;
    $('ticket').hidden = !ticket;
    $('no-ticket').hidden = !!ticket;
    if (ticket) {
      $('ticket-number').textContent = ticket.number;
      $('ticket-queue').textContent = T.msg('queue.' + ticket.queue);
      $('ticket-status').textContent = T.msg('ticket_status.' + ticket.status);
      $('ticket-arrived').textContent = S.time(ticket.createdAt);
    }
    var recall = view.recallable;
    $('recallable').hidden = !(recall && !ticket);
    if (recall) {
      $('recallable').textContent = T.msg('advisor.recallable', { number: recall.number });
    }

    var status = ticket ? ticket.status : '';
    var enabled = {
      'act-call': !ticket,
      'act-start': status === 'CALLED',
      'act-complete': status === 'IN_SERVICE',
      'act-noshow': status === 'CALLED',
      'act-recall': status === 'CALLED' || (!ticket && !!recall),
      'act-transfer': status === 'CALLED'
    };
    Object.keys(enabled).forEach(function (id) { $(id).disabled = busy || !enabled[id]; });
    if (!enabled['act-transfer'] && !$('transfer').hidden) { closeTransfer(); }

    Array.prototype.forEach.call(document.querySelectorAll('[data-status]'), function (button) {
      var value = button.getAttribute('data-status');
      button.setAttribute('aria-pressed', String(view.status === value));
      button.disabled = busy || !!ticket;
    });
    $('after').hidden = !ticket;
    var pending = view.pendingStatus;
    $('after-state').textContent = pending ? T.msg('advisor.pending_' + pending) : T.msg('advisor.no_pending');
    $('after-break').setAttribute('aria-pressed', String(pending === 'BREAK'));
    $('after-offline').setAttribute('aria-pressed', String(pending === 'OFFLINE'));
    $('after-cancel').hidden = !pending;

    var list = $('waiting');
    list.textContent = '';
    (view.waiting || []).forEach(function (line) {
      var item = document.createElement('li');
      if (line.servedByMe) { item.className = 'mine'; }
      var name = document.createElement('span');
      name.className = 'waiting-queue';
      name.textContent = T.msg('queue.' + line.queue) + (line.servedByMe ? ' · ' + T.msg('advisor.mine') : '');
      var count = document.createElement('span');
      count.className = 'count';
      count.textContent = String(line.waiting);
      item.appendChild(name);
      item.appendChild(count);
      list.appendChild(item);
    });
    $('updated').textContent = T.msg('advisor.updated', { time: S.time(new Date().toISOString()) });
  }

  function refresh() {
    return S.call('/api/advisors/me').then(function (result) {
      if (result.ok) { render(result.data); } else if (result.status !== 401) { say(S.fail(result), true); }
    });
  }

  function run(request, known, after) {
    if (busy) { return Promise.resolve(); }
    busy = true;
    if (desk) { render(desk); }
    return request().then(function (result) {
      busy = false;
      if (!result.ok) {
        say(S.fail(result, known), true);
      } else {
        say(after ? after(result.data) : '', false);
      }
      return refresh();
    });
  }

  function act(action, known, done) {
    var ticket = desk && desk.ticket;
    if (!ticket) { return; }
    run(function () { return S.call(ticketPath(ticket.reference, action), { method: 'POST' }); },
      known, function (data) { return T.msg(done, { number: data.number }); });
  }

  function callNext() {
    run(function () { return S.call('/api/advisors/me/call-next', { method: 'POST' }); },
      { 409: 'advisor.err_in_hand' },
      function (data) {
        return data.ticket ? T.msg('advisor.called', { number: data.ticket.number, desk: data.desk })
          : T.msg('advisor.nothing_waiting');
      });
  }

  function recall() {
    var ticket = desk && desk.ticket;
    var target = ticket ? ticket.reference : (desk && desk.recallable && desk.recallable.reference);
    if (!target) { return; }
    run(function () { return S.call(ticketPath(target, 'recall'), { method: 'POST' }); },
      { 409: 'advisor.err_recall' },
      function (data) { return T.msg('advisor.recalled', { number: data.number }); });
  }

  function openTransfer() {
    var ticket = desk && desk.ticket;
    if (!ticket) { return; }
    var select = $('transfer-queue');
    Array.prototype.forEach.call(select.options, function (option) {
      option.disabled = option.value === ticket.queue;
      option.hidden = option.value === ticket.queue;
    });
    var first = Array.prototype.find.call(select.options, function (o) { return !o.disabled; });
    if (first) { select.value = first.value; }
    $('transfer').hidden = false;
    $('act-transfer').setAttribute('aria-expanded', 'true');
    select.focus();
  }

  function closeTransfer() {
    $('transfer').hidden = true;
    $('act-transfer').setAttribute('aria-expanded', 'false');
  }

  function transfer(event) {
    event.preventDefault();
    var ticket = desk && desk.ticket;
    if (!ticket) { return; }
    var body = { queue: $('transfer-queue').value };
    var reason = $('transfer-reason').value.trim();
    if (reason) { body.reason = reason; }
    closeTransfer();
    $('transfer-reason').value = '';
    run(function () { return S.call(ticketPath(ticket.reference, 'transfer'), { method: 'POST', json: body }); },
      { 409: 'advisor.err_state' },
      function (data) { return T.msg('advisor.transferred', { number: data.number, queue: T.msg('queue.' + data.queue) }); });
    $('act-call').focus();
  }

  function setStatus(status) {
    run(function () { return S.call('/api/advisors/me/status', { method: 'PUT', json: { status: status } }); },
      { 409: 'advisor.err_in_hand' },
      function (data) {
        return data.ticket ? T.msg('advisor.called', { number: data.ticket.number, desk: data.desk })
          : T.msg('advisor.status_set', { status: T.msg('status.' + data.status) });
      });
  }

  function afterTicket(status) {
    run(function () {
      return status ? S.call('/api/advisors/me/after-ticket', { method: 'PUT', json: { status: status } })
        : S.call('/api/advisors/me/after-ticket', { method: 'DELETE' });
    }, {}, function (data) {
      return data.pendingStatus ? T.msg('advisor.pending_' + data.pendingStatus) : T.msg('advisor.pending_cancelled');
    });
  }

  var SHORTCUTS = { n: 'act-call', s: 'act-start', c: 'act-complete', a: 'act-noshow', r: 'act-recall', t: 'act-transfer' };

  function onKey(event) {
    if (!desk || $('console').hidden) { return; }
    if (event.key === 'Escape' && !$('transfer').hidden) { closeTransfer(); $('act-transfer').focus(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    var id = SHORTCUTS[(event.key || '').toLowerCase()];
    if (!id) { return; }
    var button = $(id);
    event.preventDefault();
    if (!button.disabled) { button.click(); }
  }

  function begin() {
    refresh();
    if (timer === null) { timer = window.setInterval(refresh, POLL_MS); }
  }

  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    desk = null;
    say('', false);
  }

  $('act-call').addEventListener('click', callNext);
  $('act-start').addEventListener('click', function () { act('start', { 409: 'advisor.err_state' }, 'advisor.started'); });
  $('act-complete').addEventListener('click', function () { act('complete', { 409: 'advisor.err_state' }, 'advisor.completed'); });
  $('act-noshow').addEventListener('click', function () { act('no-show', { 409: 'advisor.err_state' }, 'advisor.no_showed'); });
  $('act-recall').addEventListener('click', recall);
  $('act-transfer').addEventListener('click', function () { if ($('transfer').hidden) { openTransfer(); } else { closeTransfer(); } });
  $('transfer').addEventListener('submit', transfer);
  $('transfer-cancel').addEventListener('click', function () { closeTransfer(); $('act-transfer').focus(); });
  Array.prototype.forEach.call(document.querySelectorAll('[data-status]'), function (button) {
    button.addEventListener('click', function () { setStatus(button.getAttribute('data-status')); });
  });
  $('after-break').addEventListener('click', function () { afterTicket('BREAK'); });
  $('after-offline').addEventListener('click', function () { afterTicket('OFFLINE'); });
  $('after-cancel').addEventListener('click', function () { afterTicket(null); });
  document.addEventListener('keydown', onKey);

  S.start({ role: 'advisor', main: 'console', onReady: begin, onLogout: stop });
})();
