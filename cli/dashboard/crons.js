// The dev dashboard (crons.js): the crons panel: each cron's next tick and latest runs.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- crons: each cron's next tick and latest runs (GET /api/crons) -------------------------------------
async function refreshCrons() {
  try {
    const { crons } = await api('GET', '/api/crons');
    const text = JSON.stringify(crons);
    if (text === state.cronsText) return;
    state.cronsText = text;
    $('crons-panel').hidden = crons.length === 0;
    $('crons-body').replaceChildren(...crons.map((cron) => h('tr', { dataset: { cron: cron.name } },
      h('td', { title: cron.declared ? 'declared in code (on: { cron })' : 'created with crons.create' }, cron.name),
      h('td', {}, cron.task),
      h('td', { class: 'mono' }, cron.expression),
      h('td', { class: 'next', title: cron.next }, `${fmtTime(cron.next)} (${fmtRelative(cron.next)})`),
      h('td', { class: 'last' }, ...(cron.lastRuns.length ? cron.lastRuns.map((r) => {
        const b = badge(r.status);
        b.title = `${r.tick} ${r.runId}`;
        b.onclick = () => { location.hash = `#/runs/${encodeURIComponent(r.runId)}`; };
        return b;
      }) : [h('span', { class: 'muted' }, 'no runs yet')])),
    )));
  } catch { /* setLive shows it */ }
}
