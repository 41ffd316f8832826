/**
 * The status page's stylesheet, served as `/status.css` (same origin, so the CSP can say
 * `style-src 'self'` and allow no inline style).
 *
 * @example
 * res.end(STATUS_PAGE_CSS);
 */
export const STATUS_PAGE_CSS = `
:root { color-scheme: light dark; --bad: #c62828; --warn: #945800; --ok: #2e7d32; --muted: #757575; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; }
header { display: flex; gap: 1rem; align-items: baseline; }
h1 { font-size: 1.3rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.error { max-width: 28rem; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 12px; }
td.dest { font-family: ui-monospace, monospace; white-space: nowrap; }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
.state { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600; color: #fff; }
.state-flowing { background: var(--ok); }
.state-slow, .state-paused, .state-open, .state-half-open, .state-throttled { background: var(--warn); }
.state-failing, .state-stuck, .state-unserved { background: var(--bad); }
tr.row-stuck, tr.row-unserved, tr.row-failing { background: #c628281a; }
#alerts p { margin: .3rem 0; padding: .5rem .8rem; border-left: 6px solid var(--bad); background: #c628281a; font-weight: 600; }
#alerts p.all-ok { border-color: var(--ok); background: #2e7d321a; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
#legend { margin-top: .5rem; }
#chart svg { width: 100%; max-width: 900px; height: auto; }
.bar-delivered { fill: var(--ok); }
.bar-failed { fill: var(--bad); }
.axis { fill: var(--muted); font-size: 10px; }
#confirm { padding: .6rem .8rem; border: 2px solid var(--warn); margin: .4rem 0; }
button { font: inherit; margin-right: .3rem; }
form#login { max-width: 28rem; }
button.link { background: none; border: 0; padding: 0; margin: 0; color: LinkText; text-decoration: underline; cursor: pointer; font-family: ui-monospace, monospace; }
#drill, #story { margin-top: .6rem; }
#drill h3, #story h3 { font-size: 1rem; margin: .6rem 0 .3rem; }
#story dl { margin-bottom: .6rem; }
`;
