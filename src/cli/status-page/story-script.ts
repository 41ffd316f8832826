/**
 * The status page's drill-downs, a part of `/status.js` (spliced into STATUS_PAGE_SCRIPT's
 * closure, so it uses its `api`, `el`, `td`, `ago` and `$`): click a destination to see its
 * last attempts from the attempt log (`/api/attempts`), click a message id there or search one
 * to see its story (`/api/messages/<id>`). Values are written with textContent only, as in the
 * rest of the page. Neither refreshes by itself: they show what was asked, when it was asked.
 *
 * @example
 * const script = `(function () { ...helpers... ${STORY_SCRIPT} })();`;
 */
export const STORY_SCRIPT = `
  var ATTEMPT_COLUMNS = ['When', 'Message', 'Attempt', 'Outcome', 'HTTP status', 'Error code', 'Duration', 'Relay', 'Response or error'];

  function attemptsTable(id, attempts, now) {
    var head = el('tr');
    ATTEMPT_COLUMNS.forEach(function (c) { head.appendChild(el('th', { text: c, scope: 'col' })); });
    var body = el('tbody');
    attempts.forEach(function (a) {
      var tr = el('tr', { className: 'outcome-' + a.outcome, 'data-outcome': a.outcome });
      tr.appendChild(td(ago(a.at, now), '', a.at));
      var open = el('button', { type: 'button', className: 'link story-link', 'data-message-id': a.messageId, text: a.messageId });
      tr.appendChild(el('td', { className: 'dest' }, open));
      tr.appendChild(td(a.attempt, 'num'));
      tr.appendChild(td(a.outcome.replace('_', ' '), a.outcome === 'delivered' ? '' : 'bad'));
      tr.appendChild(td(a.statusCode === null ? '' : a.statusCode, 'num status'));
      tr.appendChild(td(a.errorCode, 'dest'));
      tr.appendChild(td(Math.round(a.durationMs) + ' ms', 'num'));
      tr.appendChild(td(a.workerId, 'dest'));
      tr.appendChild(td(a.detail, 'error'));
      body.appendChild(tr);
    });
    return el('table', { id: id }, el('thead', null, head), body);
  }

  function failed(box, what) {
    return function (e) {
      if (e instanceof Unauthorized) return showLogin(true);
      box.replaceChildren(el('p', { className: 'bad', role: 'alert', text: what + ' failed: ' + e.message }));
    };
  }

  function showAttempts(destination) {
    var box = $('drill');
    box.hidden = false;
    box.replaceChildren(el('p', { className: 'muted', text: 'Loading the last attempts of ' + destination + '...' }));
    return api('/api/attempts?limit=20&destination=' + encodeURIComponent(destination)).then(function (r) {
      var now = new Date().toISOString();
      var close = el('button', { type: 'button', id: 'drill-close', text: 'Close' });
      close.addEventListener('click', function () { box.hidden = true; box.replaceChildren(); });
      box.replaceChildren(
        el('h3', { id: 'drill-title', text: 'Last attempts of ' + destination }),
        r.attempts.length
          ? attemptsTable('drill-attempts', r.attempts, now)
          : el('p', { className: 'muted', id: 'drill-empty', text: 'No attempts logged for ' + destination + ' (ATTEMPT_LOG=failures logs failed attempts only).' }),
        close);
    }, failed(box, 'Reading the attempts of ' + destination));
  }

  function showStory(ref) {
    var box = $('story');
    box.replaceChildren(el('p', { className: 'muted', text: 'Looking up ' + ref + '...' }));
    return api('/api/messages/' + encodeURIComponent(ref)).then(function (s) {
      var m = s.message;
      var now = new Date().toISOString();
      var facts = [
        ['Message', m.messageId + ' (id ' + m.id + ')'],
        ['Type', m.type],
        ['Destination', m.destination],
        ['Ordering key', m.orderingKey || 'none'],
        ['Tenant', m.tenantId || 'none'],
        ['Created', m.createdAt + ' (' + ago(m.createdAt, now) + ')'],
        ['Attempts', m.attempts + ' of ' + m.maxAttempts],
        ['Now', s.stateText],
        ['Trace id', s.traceId || 'none captured']
      ];
      var dl = el('dl', { id: 'story-facts' });
      facts.forEach(function (f) {
        dl.appendChild(el('dt', { text: f[0] }));
        dl.appendChild(el('dd', { text: f[1], className: f[0] === 'Now' ? 'state-' + s.state.kind : '' }));
      });
      box.replaceChildren(
        el('h3', { text: 'Story of ' + m.messageId }),
        dl,
        s.attempts.length
          ? attemptsTable('story-attempts', s.attempts, now)
          : el('p', { className: 'muted', text: 'No attempts in the log for this message.' }));
    }, failed(box, 'Looking up ' + ref));
  }

  $('destinations').addEventListener('click', function (event) {
    var button = event.target.closest('button.dest-link');
    if (button) showAttempts(button.getAttribute('data-destination'));
  });
  $('app').addEventListener('click', function (event) {
    var button = event.target.closest('button.story-link');
    if (!button) return;
    var ref = button.getAttribute('data-message-id');
    $('search-id').value = ref;
    showStory(ref).then(function () { $('story').scrollIntoView(); });
  });
  $('search').addEventListener('submit', function (event) {
    event.preventDefault();
    var ref = $('search-id').value.trim();
    if (ref) showStory(ref);
  });
`;
