/* The waiting-room board: live from the public display feed (body data-feed-url).
 * `waiting` events carry counts per queue; `ticket` events a number, queue, desk and the
 * counts. CALL/RECALL put the number on top, highlighted, with a chime (WebAudio, no file)
 * unless muted. Sound starts off until the first click or key press (browser rule).
 * The feed reconnects by itself; "sin conexión" shows from `error` until `open`. */
(function () {
  'use strict';
  var T = window.Ticketero;
  var body = document.body;
  var feedUrl = body.getAttribute('data-feed-url');
  var MAX_CALLS = 6;
  var RETRY_MS = 5000;
  var MUTE_KEY = 'ticketero.boardMuted';

  var $ = function (id) { return document.getElementById(id); };
  var calls = [];
  var source = null;
  var retryTimer = null;
  var audio = null;
  var soundOn = false;
  var mutedByUser = false;
  try { mutedByUser = window.localStorage.getItem(MUTE_KEY) === '1'; } catch (err) { /* none */ }

  function setConnected(connected) {
    $('offline').hidden = connected;
    $('board-status').textContent = T.msg(connected ? 'board.online' : 'board.offline');
    body.setAttribute('data-connected', connected ? 'true' : 'false');
  }

  function renderCalls(flash) {
    var tbody = $('calls');
    tbody.textContent = '';
    calls.forEach(function (call, index) {
      var row = document.createElement('tr');
      if (index === 0) { row.className = flash ? 'latest flash' : 'latest'; }
      var number = document.createElement('td');
      number.textContent = call.number;
      var desk = document.createElement('td');
      desk.textContent = call.desk === null || call.desk === undefined ? '—' : String(call.desk);
      row.appendChild(number);
      row.appendChild(desk);
      tbody.appendChild(row);
    });
    $('no-calls').hidden = calls.length > 0;
  }

  function renderWaiting(waiting) {
    if (!waiting) { return; }
    var list = $('waiting');
    Object.keys(waiting).forEach(function (queue) {
      var item = list.querySelector('li[data-queue="' + queue + '"]');
      if (!item) {
        item = document.createElement('li');
        item.setAttribute('data-queue', queue);
        var name = document.createElement('span');
        name.textContent = T.msg('queue.' + queue);
        var count = document.createElement('span');
        count.className = 'count';
        item.appendChild(name);
        item.appendChild(document.createTextNode(' '));
        item.appendChild(count);
        list.appendChild(item);
      }
      item.querySelector('.count').textContent = String(waiting[queue]);
    });
  }

  function chime() {
    if (!soundOn || !audio) { return; }
    var now = audio.currentTime;
    [[880, 0], [660, 0.35]].forEach(function (tone) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, now + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.4, now + tone[1] + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + tone[1] + 0.6);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + tone[1]);
      osc.stop(now + tone[1] + 0.65);
    });
  }

  function onTicket(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (err) { return; }
    renderWaiting(data.waiting);
    if (data.type !== 'CALL' && data.type !== 'RECALL') { return; }
    calls = calls.filter(function (c) { return c.number !== data.number; });
    calls.unshift({ number: data.number, desk: data.desk, queue: data.queue });
    calls = calls.slice(0, MAX_CALLS);
    renderCalls(true);
    $('announce').textContent = T.msg('board.announce', {
      number: data.number, desk: data.desk === null ? '—' : data.desk
    });
    chime();
  }

  function connect() {
    window.clearTimeout(retryTimer);
    if (source) { source.close(); }
    source = new EventSource(feedUrl);
    source.addEventListener('open', function () { setConnected(true); });
    source.addEventListener('waiting', function (event) {
      try { renderWaiting(JSON.parse(event.data).waiting); } catch (err) { /* ignore */ }
    });
    source.addEventListener('ticket', onTicket);
    source.addEventListener('error', function () {
      setConnected(false);
      // CONNECTING: the browser retries by itself. CLOSED (an HTTP error such as 429 or
      // 503 while the API restarts): open a new one after a pause.
      if (source.readyState === EventSource.CLOSED) {
        retryTimer = window.setTimeout(connect, RETRY_MS);
      }
    });
  }

  function setSound(on) {
    soundOn = on;
    if (on && !audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (Context) { audio = new Context(); }
    }
    if (audio && on && audio.state === 'suspended') { audio.resume(); }
    var button = $('sound');
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.textContent = T.msg(on ? 'board.sound_off' : 'board.sound_on');
    body.setAttribute('data-sound', on ? 'on' : 'off');
  }

  function firstGesture(event) {
    document.removeEventListener('click', firstGesture, true);
    document.removeEventListener('keydown', firstGesture, true);
    if (event.target === $('sound')) { return; }  // the button decides by itself
    if (!mutedByUser) { setSound(true); }
  }

  $('sound').addEventListener('click', function () {
    var on = !soundOn;
    mutedByUser = !on;
    try { window.localStorage.setItem(MUTE_KEY, on ? '0' : '1'); } catch (err) { /* none */ }
    setSound(on);
    if (on) { chime(); }
  });
  document.addEventListener('click', firstGesture, true);
  document.addEventListener('keydown', firstGesture, true);

  function tick() {
    $('clock').textContent = new Date().toLocaleTimeString(
      T.lang === 'en' ? 'en-GB' : 'es-CL', { hour: '2-digit', minute: '2-digit' });
  }
  tick();
  window.setInterval(tick, 10000);
  setSound(false);
  renderCalls(false);
  connect();
})();
