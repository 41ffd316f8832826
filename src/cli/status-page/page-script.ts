import { STORY_SCRIPT } from './story-script.js';

/**
 * The status page's script, served as `/status.js` (same origin: the CSP allows no inline
 * script). Plain browser JavaScript, no framework, no request beyond this relay. It reads the
 * JSON routes every few seconds (`?refresh=<seconds>`, default 5) and builds the DOM with
 * createElement and textContent only: no value from the server is ever parsed as HTML.
 * With ADMIN_TOKEN set, every request carries `Authorization: Bearer <token>`, the token
 * typed into the login form and kept in sessionStorage (this tab only); a 401 clears the page.
 *
 * The destination drill-down and the message story are STORY_SCRIPT, spliced in before the end.
 *
 * @example
 * res.end(STATUS_PAGE_SCRIPT);
 */
export const STATUS_PAGE_SCRIPT = `'use strict';
(function () {
  var TOKEN_KEY = 'outbox-relay.admin-token';
  var refreshSeconds = Number(new URLSearchParams(location.search).get('refresh'));
  var REFRESH_MS = (refreshSeconds >= 1 ? refreshSeconds : 5) * 1000;
  var SVG = 'http://www.w3.org/2000/svg';
  var token = sessionStorage.getItem(TOKEN_KEY) || '';
  var actions = false;
  var timer = 0;
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) for (var k in props) {
      if (k === 'text') e.textContent = props[k];
      else if (k === 'className') e.className = props[k];
      else if (k === 'title') e.title = props[k];
      else e.setAttribute(k, props[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function td(text, className, title) {
    var props = { text: text === null || text === undefined ? '' : String(text) };
    if (className) props.className = className;
    if (title) props.title = title;
    return el('td', props);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + ' s';
    var m = Math.floor(seconds / 60);
    if (m < 60) return m + ' min';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function ago(iso, nowIso) {
    if (!iso) return '';
    var s = (Date.parse(nowIso) - Date.parse(iso)) / 1000;
    return s >= 0 ? duration(s) + ' ago' : 'in ' + duration(-s);
  }

  function Unauthorized() {}

  function api(path, init) {
    init = init || {};
    var headers = { accept: 'application/json' };
    if (init.body) headers['content-type'] = 'application/json';
    if (token) headers.authorization = 'Bearer ' + token;
    return fetch(path, { method: init.method || 'GET', headers: headers, body: init.body, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        if (res.status === 401) throw new Unauthorized();
        return res.json().then(function (body) {
          if (!res.ok) throw new Error((body && body.error) || res.status + ' ' + res.statusText);
          return body;
        });
      });
  }

  function clear() {
    var ids = ['alerts', 'health', 'rules', 'chart', 'confirm', 'dead-result', 'drill', 'story', 'destination-confirm', 'destination-result'];
    for (var i = 0; i < ids.length; i++) $(ids[i]).replaceChildren();
    var tables = ['destinations', 'dead', 'jobs'];
    for (var j = 0; j < tables.length; j++) $(tables[j]).tBodies[0].replaceChildren();
    $('updated').textContent = '';
  }

  function showLogin(wrongToken) {
    clear();
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = wrongToken ? 'Wrong token (401): nothing is shown.' : '';
    $('token').focus();
  }

  function renderHealth(s) {
    var dl = $('health');
    var items = [];
    var db = s.database;
    items.push(['Database', db.reachable ? 'reachable' : 'unreachable: ' + db.error, !db.reachable]);
    if (db.reachable) items.push(['Schema version', db.schemaVersion + (db.schemaVersion < db.expectedSchemaVersion ? ' (expected ' + db.expectedSchemaVersion + ': run outbox-relay migrate)' : ''), db.schemaVersion < db.expectedSchemaVersion]);
    var me = s.relay.thisProcess;
    items.push(['Relay in this process', me ? me.workerId + (me.running ? ' (running)' : ' (stopped)') : 'off', me !== null && !me.running]);
    // One entry per worker id: connected now, leases held, jobs run this hour.
    var byWorker = {}, order = [];
    s.relay.seen.forEach(function (w) {
      if (!byWorker[w.workerId]) { byWorker[w.workerId] = []; order.push(w.workerId); }
      byWorker[w.workerId].push(w.source === 'connection' ? 'connected' : w.source === 'lease' ? w.count + ' leases' : 'jobs, last ' + ago(w.lastSeen, s.now));
    });
    var seen = order.map(function (id) { return id + ' (' + byWorker[id].join(', ') + ')'; });
    items.push(['Relays seen', seen.length ? seen.join('; ') : 'none connected, no leases held, no job run in the last hour', false]);
    items.push(['Jobs scheduler', s.jobs.scheduler === 'running' ? 'running (' + s.jobs.list.length + ' jobs)' : 'off: ' + s.jobs.reason, false]);
    dl.replaceChildren();
    for (var i = 0; i < items.length; i++) {
      dl.appendChild(el('dt', { text: items[i][0] }));
      dl.appendChild(el('dd', { text: items[i][1], className: items[i][2] ? 'bad' : '' }));
    }
  }

  function renderDestinations(d) {
    var rules = {};
    var legend = $('rules');
    legend.replaceChildren();
    for (var r = 0; r < d.rules.length; r++) {
      rules[d.rules[r].state] = d.rules[r].rule;
      legend.appendChild(el('dt', null, el('span', { className: 'state state-' + d.rules[r].state, text: d.rules[r].state })));
      legend.appendChild(el('dd', { text: d.rules[r].rule }));
    }
    var alerts = [];
    var rows = d.destinations.map(function (x) {
      if (x.state === 'stuck' || x.state === 'unserved' || x.state === 'failing' || x.state === 'paused' || x.state === 'open' || x.state === 'half-open') {
        alerts.push(x.destination + ' is ' + x.state + (x.paused ? ' (' + pausedText(x.paused, d.now) + ')' : '') + (!x.paused && x.breaker ? ' (' + breakerText(x.breaker, d.now) + ')' : '') + (x.oldestWaitingSeconds > 0 ? ': oldest message waiting ' + duration(x.oldestWaitingSeconds) : '') + (x.pending + x.inFlight > 0 ? ', ' + (x.pending + x.inFlight) + ' waiting' : '') + (x.failed5m > 0 ? ', ' + x.failed5m + ' failed in 5 min' : ''));
      }
      var tr = el('tr', { className: 'row-' + x.state, 'data-destination': x.destination, 'data-state': x.state });
      // A button: a click (or Enter) shows the destination's last attempts below the table.
      tr.appendChild(el('td', { className: 'dest' }, el('button', { type: 'button', className: 'link dest-link', 'data-destination': x.destination, text: x.destination, title: 'Show its last attempts' })));
      tr.appendChild(el('td', null, el('span', { className: 'state state-' + x.state, text: x.state, title: rules[x.state] || '' }), x.paused ? el('span', { className: 'paused-reason', text: ' ' + pausedText(x.paused, d.now) }) : x.breaker ? el('span', { className: 'breaker-info', text: ' ' + breakerText(x.breaker, d.now) }) : null, x.limit ? el('span', { className: 'limit', text: ' limit ' + x.limit.text + (x.limit.pattern !== x.destination ? ' (' + x.limit.pattern + ')' : '') + (x.throttled > 0 ? ', ' + x.throttled + ' throttled' : '') }) : null));
      tr.appendChild(td(x.pending, 'num pending'));
      tr.appendChild(td(x.inFlight, 'num in-flight'));
      tr.appendChild(td(x.oldestWaitingSeconds > 0 ? duration(x.oldestWaitingSeconds) : '', 'num oldest', x.oldestWaitingSince ? 'since ' + x.oldestWaitingSince : ''));
      tr.appendChild(td(x.delivered5m + ' / ' + x.delivered60m, 'num delivered'));
      tr.appendChild(td(x.failed5m + ' / ' + x.failed60m, 'num failed', 'of which died: ' + x.dead5m + ' / ' + x.dead60m));
      tr.appendChild(td(x.deadTotal, 'num dead'));
      tr.appendChild(td(x.sampleError, 'error'));
      var cell = el('td', { className: 'action' });
      if (actions) {
        (x.paused ? ['resume'] : x.breaker ? ['resume', 'retry-now'] : ['pause', 'retry-now']).forEach(function (action) {
          var b = el('button', { type: 'button', className: action, text: DESTINATION_VERBS[action] });
          b.addEventListener('click', function () { confirmDestination(action, x); });
          cell.appendChild(b);
        });
      }
      tr.appendChild(cell);
      return tr;
    });
    var actionCols = document.querySelectorAll('#destinations .action');
    for (var a = 0; a < actionCols.length; a++) actionCols[a].hidden = !actions;
    $('destinations').tBodies[0].replaceChildren.apply($('destinations').tBodies[0], rows);
    $('destinations-empty').hidden = rows.length > 0;
    var box = $('alerts');
    box.replaceChildren.apply(box, alerts.map(function (a) { return el('p', { text: a }); }));
    if (alerts.length === 0 && rows.length > 0) box.appendChild(el('p', { className: 'all-ok', text: 'Every destination is flowing.' }));
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderChart(t) {
    var W = 720, H = 170, left = 40, bottom = 20, top = 10;
    var n = t.minutes.length;
    var max = 1, delivered = 0, failed = 0;
    for (var i = 0; i < n; i++) {
      max = Math.max(max, t.minutes[i].delivered + t.minutes[i].failed);
      delivered += t.minutes[i].delivered;
      failed += t.minutes[i].failed;
    }
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Deliveries and failures per minute, last hour' });
    var bw = (W - left) / Math.max(n, 1);
    var h = H - bottom - top;
    for (var j = 0; j < n; j++) {
      var m = t.minutes[j];
      var x = left + j * bw;
      var dh = (m.delivered / max) * h;
      var fh = (m.failed / max) * h;
      var g = svg('g', {});
      g.appendChild(svg('title', {}, m.minute.slice(11, 16) + ' UTC: ' + m.delivered + ' delivered, ' + m.failed + ' failed'));
      g.appendChild(svg('rect', { class: 'bar-delivered', x: x + 1, y: top + h - dh, width: Math.max(bw - 2, 1), height: dh }));
      g.appendChild(svg('rect', { class: 'bar-failed', x: x + 1, y: top + h - dh - fh, width: Math.max(bw - 2, 1), height: fh }));
      s.appendChild(g);
    }
    s.appendChild(svg('line', { x1: left, y1: top + h, x2: W, y2: top + h, stroke: 'currentColor', 'stroke-opacity': 0.3 }));
    s.appendChild(svg('text', { class: 'axis', x: left - 4, y: top + 8, 'text-anchor': 'end' }, String(max)));
    s.appendChild(svg('text', { class: 'axis', x: left - 4, y: top + h, 'text-anchor': 'end' }, '0'));
    s.appendChild(svg('text', { class: 'axis', x: left, y: H - 4 }, '-60 min'));
    s.appendChild(svg('text', { class: 'axis', x: W, y: H - 4, 'text-anchor': 'end' }, 'now'));
    var caption = el('p', { className: 'muted', id: 'chart-totals', text: delivered + ' delivered, ' + failed + ' failed in the last hour (per minute; green delivered, red failed)' });
    $('chart').replaceChildren(s, caption);
  }

  function breakerText(b, nowIso) {
    return 'circuit breaker ' + b.state + (b.probeAt ? ', next probe ' + ago(b.probeAt, nowIso) : '');
  }

  function pausedText(p, nowIso) {
    return (p.reason === 'gone' ? 'gone: the receiver answered 410' : p.reason) + ', ' + (p.until ? 'until ' + p.until + ' (' + ago(p.until, nowIso) + ')' : 'until resumed');
  }

  // One confirmation for every admin action of the page: the question, then Yes (posting
  // \`body\` to \`path\` with the token) or Cancel; the outcome goes to \`resultId\`.
  function confirmThen(o) {
    var box = $(o.boxId);
    var yes = el('button', { type: 'button', id: o.boxId + '-yes', text: o.yes });
    var no = el('button', { type: 'button', id: o.boxId + '-no', text: 'Cancel' });
    box.replaceChildren.apply(box, [el('p', { text: o.question })].concat(o.inputs || [], [yes, no]));
    box.hidden = false;
    no.addEventListener('click', function () { box.hidden = true; box.replaceChildren(); });
    yes.addEventListener('click', function () {
      yes.disabled = true;
      api(o.path, { method: 'POST', body: JSON.stringify(o.body()) })
        .then(function (r) { $(o.resultId).textContent = o.done(r); }, function (e) {
          if (e instanceof Unauthorized) return showLogin(true);
          $(o.resultId).textContent = o.verb + ' failed: ' + e.message;
        })
        .then(function () { box.hidden = true; box.replaceChildren(); if ($('login').hidden) return refresh(); });
    });
  }

  function confirmAction(action, group) {
    var verb = action === 'replay' ? 'Replay' : 'Purge';
    confirmThen({
      boxId: 'confirm', resultId: 'dead-result', verb: verb, path: '/api/admin/dead/' + action,
      yes: 'Yes, ' + action + ' ' + group.count,
      question: verb + ' ' + group.count + ' dead message(s) of ' + group.destination + ' (' + group.reason + ')?' + (action === 'purge' ? ' They are deleted for good.' : ' They go back to pending with a fresh attempt budget.'),
      body: function () { return { destination: group.destination, reason: group.reason }; },
      done: function (r) { return action === 'replay' ? 'Replayed ' + r.replayed + ' message(s) of ' + group.destination + '.' : 'Purged ' + r.purged + ' message(s) of ' + group.destination + '.'; },
    });
  }

  var DESTINATION_VERBS = { pause: 'Pause', resume: 'Resume', 'retry-now': 'Retry now' };
  var DESTINATION_QUESTIONS = {
    pause: ': no relay sends to it until it is resumed (or until the time given); every message is kept.',
    resume: ': its waiting messages are due at once, for every relay.',
    'retry-now': ': its messages waiting on a retry backoff are due at once.',
  };

  function confirmDestination(action, x) {
    var reason = el('input', { id: 'pause-reason', type: 'text', placeholder: 'reason (optional)' });
    var until = el('input', { id: 'pause-until', type: 'text', placeholder: 'until: 2h, 1d or ISO date (optional)' });
    confirmThen({
      boxId: 'destination-confirm', resultId: 'destination-result', verb: DESTINATION_VERBS[action],
      path: '/api/admin/destinations/' + action,
      yes: 'Yes, ' + DESTINATION_VERBS[action].toLowerCase() + ' ' + x.destination,
      question: DESTINATION_VERBS[action] + ' ' + x.destination + DESTINATION_QUESTIONS[action],
      inputs: action === 'pause' ? [reason, until] : [],
      body: function () {
        var b = { destination: x.destination };
        if (action === 'pause' && reason.value.trim()) b.reason = reason.value.trim();
        if (action === 'pause' && until.value.trim()) b.until = until.value.trim();
        return b;
      },
      done: function (r) {
        if (action === 'pause') return 'Paused ' + x.destination + ' (' + r.held + ' waiting message(s) held).';
        if (action === 'resume') return r.resumed ? 'Resumed ' + x.destination + ' (' + r.released + ' message(s) due now).' : x.destination + ' was not paused.';
        if (r.probe) return 'The probe of ' + x.destination + ' goes out now; its breaker closes when it gets through.';
        return 'Retrying ' + r.released + ' message(s) of ' + x.destination + ' now.';
      },
    });
  }

  function renderDead(d) {
    var rows = d.groups.map(function (g) {
      var tr = el('tr', { 'data-destination': g.destination, 'data-reason': g.reason });
      tr.appendChild(td(g.destination, 'dest'));
      tr.appendChild(td(g.reason));
      tr.appendChild(td(g.count, 'num count'));
      tr.appendChild(td(ago(g.firstSeen, d.now), '', g.firstSeen || ''));
      tr.appendChild(td(ago(g.lastSeen, d.now), '', g.lastSeen || ''));
      tr.appendChild(td(g.sampleMessageId, 'dest', g.sampleType));
      tr.appendChild(td(g.sampleError, 'error'));
      var cell = el('td', { className: 'action' });
      if (actions) {
        var replay = el('button', { type: 'button', className: 'replay', text: 'Replay' });
        var purge = el('button', { type: 'button', className: 'purge', text: 'Purge' });
        replay.addEventListener('click', function () { confirmAction('replay', g); });
        purge.addEventListener('click', function () { confirmAction('purge', g); });
        cell.append(replay, purge);
      }
      tr.appendChild(cell);
      return tr;
    });
    var body = $('dead').tBodies[0];
    body.replaceChildren.apply(body, rows);
    $('dead-empty').hidden = rows.length > 0;
    var cols = document.querySelectorAll('#dead .action');
    for (var i = 0; i < cols.length; i++) cols[i].hidden = !actions;
  }

  function renderJobs(s) {
    var off = s.jobs.scheduler !== 'running';
    $('jobs-off').hidden = !off;
    $('jobs-off').textContent = off ? 'Jobs scheduler off in this process: ' + s.jobs.reason : '';
    var rows = s.jobs.list.map(function (j) {
      var last = j.lastRun;
      var tr = el('tr', { 'data-job': j.name });
      tr.appendChild(td(j.aliases.length ? j.name + ' (also ' + j.aliases.join(', ') + ')' : j.name));
      tr.appendChild(td(j.cron || 'on demand', 'dest'));
      tr.appendChild(td(j.running ? 'running now' : last ? last.status + ', ' + ago(last.startedAt, s.now) : 'never', last && last.status === 'failed' ? 'bad' : '', last ? last.startedAt + ' on ' + last.workerId + ' (' + last.reason + ')' : ''));
      tr.appendChild(td(last && last.durationMs !== null ? last.durationMs + ' ms' : '', 'num'));
      tr.appendChild(td(last ? last.error : '', 'error'));
      tr.appendChild(td(j.nextRunAt ? ago(j.nextRunAt, s.now) : '', '', j.nextRunAt || ''));
      return tr;
    });
    var body = $('jobs').tBodies[0];
    body.replaceChildren.apply(body, rows);
  }

  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    clearTimeout(timer);
    return Promise.all([api('/api/status'), api('/api/destinations'), api('/api/throughput'), api('/api/dead/groups')])
      .then(function (r) {
        actions = r[0].actions === true;
        $('login').hidden = true;
        $('app').hidden = false;
        $('logout').hidden = !token;
        renderHealth(r[0]);
        renderDestinations(r[1]);
        renderChart(r[2]);
        renderDead(r[3]);
        renderJobs(r[0]);
        $('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ', every ' + REFRESH_MS / 1000 + ' s';
        document.body.setAttribute('data-loaded', r[0].now);
      }, function (e) {
        if (e instanceof Unauthorized) return showLogin(token !== '');
        $('updated').textContent = 'refresh failed: ' + e.message;
      })
      .then(function () {
        busy = false;
        if ($('login').hidden) timer = setTimeout(refresh, REFRESH_MS);
      });
  }

  $('login').addEventListener('submit', function (event) {
    event.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    refresh();
  });
  $('logout').addEventListener('click', function () { showLogin(false); });
${STORY_SCRIPT}
  refresh();
})();
`;
