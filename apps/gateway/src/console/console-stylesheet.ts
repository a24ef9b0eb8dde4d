/** `/console/assets/console.css`: a small stylesheet, served as a file (the CSP allows no inline style). */
export const CONSOLE_STYLESHEET = `:root { font-family: system-ui, sans-serif; color: #1d232a; background: #fafafa; }
body { margin: 0; }
header { display: flex; align-items: center; gap: 2rem; padding: .6rem 1.5rem; background: #1d3557; color: #fff; }
header a { color: #fff; margin-right: 1rem; }
nav { display: flex; align-items: center; }
form.logout { display: inline; margin-left: 1rem; }
main { padding: 1rem 1.5rem; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #dde1e6; vertical-align: top; font-size: .9rem; }
th { background: #eef1f4; }
td form { margin: 0; }
code { font-size: .85em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
form.search, form.filter, form.login { display: flex; gap: .5rem; align-items: center; margin-bottom: 1rem; }
form.login { flex-direction: column; align-items: flex-start; max-width: 20rem; }
.actions { display: flex; gap: 1rem; margin: 1rem 0; }
.actions form { display: inline; }
.error { color: #b00020; font-weight: 600; }
.health.ok, .state.active, .state.SUCCEEDED, .status.active { color: #1b7a36; }
.health.degraded, .state.COMPENSATING, .state.RUNNING, .status.provisioning { color: #a86400; }
.health.down, .state.revoked, .state.FAILED, .state.COMPENSATION_FAILED, .status.deleting, .status.deleted { color: #b00020; }
button { cursor: pointer; }
tr.failed, tr.strained { background: #fdecea; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(32rem, 1fr)); gap: 1rem; }
figure.plot { margin: 0; background: #fff; border: 1px solid #dde1e6; padding: .5rem; }
figure.plot figcaption { font-weight: 600; font-size: .9rem; }
svg.plot { width: 100%; height: auto; }
svg.swatch { width: .7rem; height: .7rem; }
ul.legend, ul.stores { list-style: none; padding: 0; display: flex; gap: 1rem; margin: .3rem 0; font-size: .85rem; }
.missing { color: #6c757d; cursor: help; }
`;
