/* The supervisor page: the branch live (dashboard, alerts, advisors; polled every few
 * seconds), a ticket's history by its number with each message's delivery state, and the
 * branch's advisors (create, edit desk/queues/name, deactivate or reactivate). */
(function () {
  'use strict';
  var T = window.Ticketero;
  var S = window.Staff;
  var POLL_MS = 5000;
  var BRANCH_KEY = 'ticketero.supervisor.branch';
  var timer = null;
  var branch = '';
  var staff = [];

  function $(id) { return document.getElementById(id); }
  function at(path) { return '/api/branches/' + encodeURIComponent(branch) + path; }
  function minutes(value) { return value === null || value === undefined ? '—' : T.msg('common.minutes', { n: value }); }
  function pair(low, high) {
    if (low === null || low === undefined) { return '—'; }
    return T.msg('supervisor.pair', { p50: low, p90: high });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (cell) {
      var td = cell instanceof Node ? cell : el('td', cell);
      if (!(cell instanceof Node) && typeof cell === 'number') { td.className = 'num'; }
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(tableId, rows, empty, columns) {
    var body = $(tableId).querySelector('tbody');
    body.textContent = '';
    if (!rows.length) {
      var td = el('td', empty, 'empty');
      td.colSpan = columns;
      var tr = document.createElement('tr');
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (tr) { body.appendChild(tr); });
  }

  function fail(result) {
    var box = $('error');
    if (result && !result.ok && result.status !== 401) {
      box.textContent = S.fail(result);
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  // --- live branch ----------------------------------------------------------------------

  function dashboard() {
    return Promise.all([S.call(at('/dashboard')), S.call(at('/alerts')), S.call(at('/advisors'))])
      .then(function (results) {
        var failed = results.filter(function (r) { return !r.ok; })[0];
        fail(failed);
        if (failed) { return; }
        var dash = results[0].data;
        $('dash-summary').textContent = T.msg('supervisor.summary', {
          waiting: dash.totals.waiting, served: dash.totals.completedToday,
          advisors: dash.totals.servingAdvisors, time: S.time(dash.generatedAt)
        });
        fill('queues', dash.queues.map(function (q) {
          var name = el('th', T.msg('queue.' + q.queue));
          name.scope = 'row';
          return row([name, q.waiting, q.beingServed, minutes(q.longestWaitMinutes),
            el('td', pair(q.waitP50Minutes, q.waitP90Minutes), 'num'),
            el('td', pair(q.serviceP50Minutes, q.serviceP90Minutes), 'num'),
            q.completedToday, q.servingAdvisors]);
        }), T.msg('supervisor.no_queues'), 8);

        var alerts = $('alerts');
        alerts.textContent = '';
        var found = results[1].data.alerts;
        if (!found.length) { alerts.appendChild(el('li', T.msg('supervisor.no_alerts'), 'alert-none')); }
        found.forEach(function (alert) {
          var item = el('li', '', 'alert-item alert-' + alert.severity.toLowerCase());
          item.appendChild(el('strong', T.msg('alert.' + alert.kind) + ': '));
          item.appendChild(document.createTextNode(alert.message));
          alerts.appendChild(item);
        });

        fill('advisors', results[2].data.map(function (a) {
          var status = T.msg('status.' + a.status);
          if (a.pendingStatus) { status += ' · ' + T.msg('supervisor.then', { status: T.msg('status.' + a.pendingStatus) }); }
          var ticket = a.currentTicketNumber
            ? a.currentTicketNumber + ' (' + T.msg('ticket_status.' + a.currentTicketStatus) + ')' : '—';
          return row([a.desk, a.name, el('td', status, 'status-' + a.status.toLowerCase()), ticket, a.servedToday]);
        }), T.msg('supervisor.no_advisors'), 5);
      });
  }

  // --- search ---------------------------------------------------------------------------

  function history(match) {
    return S.call('/api/tickets/' + encodeURIComponent(match.reference) + '/history?limit=200').then(function (result) {
      var box = el('article', '', 'history');
      if (!result.ok) { box.appendChild(el('p', S.fail(result), 'field-error')); return box; }
      var ticket = result.data.ticket;
      box.appendChild(el('h3', T.msg('supervisor.ticket_title', { number: ticket.number, queue: T.msg('queue.' + ticket.queue) })));
      var facts = el('dl', '', 'facts');
      [['supervisor.state', T.msg('ticket_status.' + ticket.status)],
        ['supervisor.arrived', S.time(ticket.arrivedAt)],
        ['supervisor.called', S.time(ticket.calledAt)],
        ['supervisor.completed_at', S.time(ticket.completedAt)],
        ['supervisor.desk', ticket.desk === null ? '—' : ticket.desk],
        ['supervisor.recalls', ticket.recalls + ' / ' + ticket.transfers]].forEach(function (fact) {
        facts.appendChild(el('dt', T.msg(fact[0])));
        facts.appendChild(el('dd', fact[1]));
      });
      box.appendChild(facts);

      box.appendChild(table('supervisor.events', ['supervisor.time', 'supervisor.action', 'supervisor.change', 'supervisor.actor'],
        result.data.events.map(function (e) {
          var change = (e.fromStatus ? T.msg('ticket_status.' + e.fromStatus) + ' → ' : '') + T.msg('ticket_status.' + e.toStatus);
          return row([S.time(e.at), T.msg('action.' + e.action), change, e.actor]);
        }), 'supervisor.no_events'));

      box.appendChild(table('supervisor.messages', ['supervisor.message', 'supervisor.delivery', 'supervisor.attempts', 'supervisor.sent_at', 'supervisor.last_error'],
        result.data.messages.map(function (m) {
          var state = el('td', T.msg('message_state.' + m.state), 'delivery delivery-' + m.state.toLowerCase());
          return row([T.msg('message.' + m.type), state, m.attempts, S.time(m.sentAt), m.lastError || '—']);
        }), 'supervisor.no_messages'));
      return box;
    });
  }

  function table(captionKey, headKeys, rows, emptyKey) {
    var wrap = el('div', '', 'table-wrap');
    var tableNode = el('table', '', 'data-table');
    tableNode.appendChild(el('caption', T.msg(captionKey)));
    var head = document.createElement('tr');
    headKeys.forEach(function (key) { var th = el('th', T.msg(key)); th.scope = 'col'; head.appendChild(th); });
    var thead = document.createElement('thead');
    thead.appendChild(head);
    tableNode.appendChild(thead);
    var body = document.createElement('tbody');
    if (!rows.length) {
      var td = el('td', T.msg(emptyKey), 'empty');
      td.colSpan = headKeys.length;
      var tr = document.createElement('tr');
      tr.appendChild(td);
      body.appendChild(tr);
    }
    rows.forEach(function (tr) { body.appendChild(tr); });
    tableNode.appendChild(body);
    wrap.appendChild(tableNode);
    return wrap;
  }

  function search(event) {
    event.preventDefault();
    var out = $('search-result');
    var number = $('search-number').value.trim();
    if (!number) { out.textContent = ''; out.appendChild(el('p', T.msg('supervisor.number_missing'), 'field-error')); return; }
    var query = '?number=' + encodeURIComponent(number) + ($('search-day').value ? '&day=' + $('search-day').value : '');
    out.textContent = '';
    out.appendChild(el('p', T.msg('common.loading')));
    S.call(at('/tickets') + query).then(function (result) {
      out.textContent = '';
      if (!result.ok) {
        out.appendChild(el('p', S.fail(result, { 422: 'supervisor.number_invalid' }), 'field-error'));
        return null;
      }
      if (!result.data.matches.length) {
        out.appendChild(el('p', T.msg('supervisor.not_found', { number: result.data.number, day: result.data.businessDay }), 'alert alert-info'));
        return null;
      }
      return Promise.all(result.data.matches.map(history)).then(function (boxes) {
        boxes.forEach(function (box) { out.appendChild(box); });
      });
    });
  }

  // --- managing advisors ----------------------------------------------------------------

  function loadStaff() {
    return S.call('/api/advisors?limit=200&branchOffice=' + encodeURIComponent(branch)).then(function (result) {
      if (!result.ok) { fail(result); return; }
      staff = result.data;
      fill('staff', staff.map(function (a) {
        var actions = el('td', '', 'row-actions');
        var edit = el('button', T.msg('supervisor.edit'), 'button secondary small');
        edit.type = 'button';
        edit.setAttribute('aria-label', T.msg('supervisor.edit_who', { name: a.name }));
        edit.addEventListener('click', function () { startEdit(a); });
        var toggle = el('button', T.msg(a.active ? 'supervisor.deactivate' : 'supervisor.activate'), 'button secondary small');
        toggle.type = 'button';
        toggle.setAttribute('aria-label', T.msg(a.active ? 'supervisor.deactivate_who' : 'supervisor.activate_who', { name: a.name }));
        toggle.addEventListener('click', function () { patch(a.id, { active: !a.active }); });
        actions.appendChild(edit);
        actions.appendChild(toggle);
        var queues = a.queues.map(function (q) { return T.msg('queue.' + q); }).join(', ');
        var state = a.active ? T.msg('status.' + a.status) : T.msg('supervisor.inactive');
        return row([a.desk, a.name, queues, state, actions]);
      }), T.msg('supervisor.no_advisors'), 5);
    });
  }

  function formQueues() {
    return Array.prototype.filter.call(document.querySelectorAll('input[name="queues"]'), function (box) { return box.checked; })
      .map(function (box) { return box.value; });
  }

  function resetForm() {
    $('advisor-form').reset();
    $('form-id').value = '';
    $('form-heading').textContent = T.msg('supervisor.new_advisor');
    $('form-submit').textContent = T.msg('supervisor.create');
    $('form-reset').hidden = true;
    ['form-email-field', 'form-username-field', 'form-password-field'].forEach(function (id) { $(id).hidden = false; });
  }

  function startEdit(advisor) {
    resetForm();
    $('form-id').value = String(advisor.id);
    $('form-heading').textContent = T.msg('supervisor.edit_title', { name: advisor.name });
    $('form-submit').textContent = T.msg('supervisor.save');
    $('form-reset').hidden = false;
    ['form-email-field', 'form-username-field', 'form-password-field'].forEach(function (id) { $(id).hidden = true; });
    $('form-name').value = advisor.name;
    $('form-desk').value = String(advisor.desk);
    Array.prototype.forEach.call(document.querySelectorAll('input[name="queues"]'), function (box) {
      box.checked = advisor.queues.indexOf(box.value) >= 0;
    });
    $('form-name').focus();
  }

  function done(result, okKey) {
    $('form-error').textContent = '';
    $('form-ok').textContent = '';
    if (!result.ok) {
      var data = result.data || {};
      var field = data.errors && data.errors.length ? data.errors[0].field : '';
      var text = S.fail(result);
      $('form-error').textContent = field ? T.msg('supervisor.field_error', { field: field, message: text }) : text;
      return false;
    }
    $('form-ok').textContent = T.msg(okKey, { name: result.data.name });
    loadStaff();
    dashboard();
    return true;
  }

  function patch(id, body) {
    return S.call('/api/advisors/' + id, { method: 'PATCH', json: body }).then(function (result) {
      return done(result, 'supervisor.saved');
    });
  }

  function submitAdvisor(event) {
    event.preventDefault();
    var id = $('form-id').value;
    var desk = parseInt($('form-desk').value, 10);
    var body = { name: $('form-name').value.trim(), desk: isNaN(desk) ? $('form-desk').value : desk, queues: formQueues() };
    if (id) {
      patch(id, body).then(function (ok) { if (ok) { resetForm(); } });
      return;
    }
    body.email = $('form-email').value.trim();
    body.branchOffice = branch;
    if ($('form-username').value.trim()) {
      body.username = $('form-username').value.trim();
      body.password = $('form-password').value;
    }
    S.call('/api/advisors', { method: 'POST', json: body }).then(function (result) {
      if (done(result, 'supervisor.created')) { resetForm(); }
    });
  }

  // --- start ----------------------------------------------------------------------------

  function chooseBranch() {
    branch = $('branch').value;
    try { window.sessionStorage.setItem(BRANCH_KEY, branch); } catch (err) { /* private mode */ }
    $('search-result').textContent = '';
    dashboard();
    loadStaff();
  }

  function begin(me) {
    $('who-name').textContent = me.username;
    S.call('/api/branches?limit=200').then(function (result) {
      if (!result.ok) { fail(result); return; }
      var select = $('branch');
      select.textContent = '';
      var wanted = new URLSearchParams(window.location.search).get('branch');
      try { wanted = wanted || window.sessionStorage.getItem(BRANCH_KEY); } catch (err) { /* private mode */ }
      result.data.forEach(function (b) {
        var option = el('option', b.name);
        option.value = b.name;
        if (wanted && b.name.toLowerCase() === wanted.toLowerCase()) { option.selected = true; }
        select.appendChild(option);
      });
      if (!result.data.length) { return; }
      chooseBranch();
      if (timer === null) { timer = window.setInterval(dashboard, POLL_MS); }
    });
  }

  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    $('search-result').textContent = '';
    $('error').hidden = true;
  }

  $('branch').addEventListener('change', chooseBranch);
  $('search').addEventListener('submit', search);
  $('advisor-form').addEventListener('submit', submitAdvisor);
  $('form-reset').addEventListener('click', resetForm);

  S.start({ role: 'supervisor', main: 'board', onReady: begin, onLogout: stop });
})();
