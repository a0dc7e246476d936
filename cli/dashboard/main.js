// The dev dashboard (main.js): routing (#/runs/<id>) and start-up: the first load, then polling while the page is visible.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- routing and start-up -------------------------------------------------------------------------------
function route() {
  const m = location.hash.match(/^#\/runs\/(.+)$/);
  const runId = m ? decodeURIComponent(m[1]) : null;
  if (runId !== state.selectedId) selectRun(runId);
}
window.addEventListener('hashchange', route);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshRuns(); });

(async function init() {
  await Promise.all([loadDefinitions(), refreshRuns(), refreshCrons()]);
  route();
  if (!LIVE) { $('live-text').textContent = 'paused (?live=0)'; return; }
  setInterval(() => { if (!document.hidden) { refreshRuns(); refreshCrons(); } }, 2000);
  setInterval(() => {
    const el = $('run-duration');
    if (el && state.selected && !TERMINAL.has(state.selected.status)) el.textContent = fmtDuration(runDuration(state.selected));
  }, 1000);
  setInterval(loadDefinitions, 30000);
})();
