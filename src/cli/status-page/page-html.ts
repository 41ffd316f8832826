/**
 * The status page's document: a shell with no data in it. Everything it shows comes from the
 * JSON routes through `/status.js`, which writes with textContent only, so the shell can be
 * served without a token and a value can never become markup.
 *
 * @example
 * res.end(STATUS_PAGE_HTML);
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>outbox-relay status</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<header>
  <h1>outbox-relay status</h1>
  <span id="updated" class="muted"></span>
  <button id="logout" type="button" hidden>Log out</button>
</header>
<noscript><p class="bad">This page needs JavaScript (no framework, nothing from outside this relay). The same data is JSON at /api/status, /api/destinations, /api/throughput, /api/dead/groups, /api/attempts and /api/messages/&lt;id&gt;.</p></noscript>
<form id="login" hidden>
  <h2>Admin token</h2>
  <p>This relay has an ADMIN_TOKEN. Enter it to see its status; it is kept in this browser tab only.</p>
  <label>Token <input id="token" name="token" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
  <p id="login-error" class="bad" role="alert"></p>
</form>
<main id="app" hidden>
  <section id="alerts" aria-live="polite"></section>
  <section>
    <h2>Health</h2>
    <dl id="health"></dl>
  </section>
  <section>
    <h2>Destinations</h2>
    <table id="destinations">
      <thead><tr><th>Destination</th><th>State</th><th class="num">Pending</th><th class="num">In flight</th><th class="num">Oldest waiting</th><th class="num">Delivered 5m / 60m</th><th class="num">Failed attempts 5m / 60m</th><th class="num">Dead</th><th>Last error</th><th class="action">Actions</th></tr></thead>
      <tbody></tbody>
    </table>
    <div id="destination-confirm" hidden></div>
    <p id="destination-result" role="status"></p>
    <p id="destinations-empty" class="muted" hidden>No messages in the last hour.</p>
    <div id="drill" aria-live="polite" hidden></div>
    <details id="legend"><summary>What the states mean</summary><dl id="rules"></dl>
      <p class="muted">Failed attempts counts attempts, not messages: those that failed in this relay process, plus one for each message that died in any process (see docs/binary.md, Status page). Dead counts messages.</p>
    </details>
  </section>
  <section>
    <h2>Find a message</h2>
    <form id="search" role="search">
      <label>Message id or row id <input id="search-id" name="id" autocomplete="off" required></label>
      <button type="submit">Show its story</button>
    </form>
    <div id="story" aria-live="polite"></div>
  </section>
  <section>
    <h2>Throughput, last hour</h2>
    <div id="chart"></div>
  </section>
  <section>
    <h2>Dead letters</h2>
    <div id="confirm" hidden></div>
    <p id="dead-result" role="status"></p>
    <table id="dead">
      <thead><tr><th>Destination</th><th>Reason</th><th class="num">Count</th><th>First seen</th><th>Last seen</th><th>Sample message</th><th>Error</th><th class="action">Actions</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="dead-empty" class="muted" hidden>No dead letters.</p>
  </section>
  <section>
    <h2>Cron jobs</h2>
    <table id="jobs">
      <thead><tr><th>Job</th><th>Schedule</th><th>Last run</th><th>Duration</th><th>Error</th><th>Next run</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="jobs-off" class="muted" hidden></p>
  </section>
</main>
</body>
</html>
`;
