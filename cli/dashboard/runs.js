// The dev dashboard (runs.js): the runs list, the status counts, the definitions and the start/push forms.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- runs list ------------------------------------------------------------------------------------------
async function refreshRuns() {
  const params = new URLSearchParams({ limit: '200' });
  if (state.statusFilter) params.set('status', state.statusFilter);
  if (state.nameFilter) params.set('name', state.nameFilter);
  try {
    const data = await api('GET', `/api/runs?${params}`);
    state.serverOffsetMs = Date.parse(data.now) - Date.now();
    const runs = state.showTaskRuns || state.nameFilter.includes('/') ? data.runs : data.runs.filter((r) => !r.name.includes('/'));
    const text = JSON.stringify(runs);
    state.runs = runs;
    if (text !== state.runsText) { state.runsText = text; renderRuns(); }
    else updateDurations();
  } catch { /* setLive shows it */ }
}
function renderRuns() {
  const body = $('runs-body');
  body.replaceChildren(...state.runs.map((run) => h('tr', {
    dataset: { runId: run.runId, status: run.status },
    class: run.runId === state.selectedId ? 'selected' : '',
    onclick: () => { location.hash = `#/runs/${encodeURIComponent(run.runId)}`; },
  },
    h('td', {}, badge(run.status)),
    h('td', { title: run.name }, runName(run.name)),
    h('td', { class: 'mono wrap', title: run.runId }, shortId(run.runId)),
    h('td', { class: 'when', title: run.createdAt }, fmtTime(run.createdAt).replace(' ', '\n').replace(' UTC', '\u00a0UTC')),
    h('td', { class: 'num duration' }, fmtDuration(runDuration(run))),
  )));
  $('runs-empty').hidden = state.runs.length > 0;
  renderCounts();
}

function runName(name) {
  const cut = name.indexOf('/');
  return cut < 0 ? name : [h('span', { class: 'wf' }, `${name.slice(0, cut)} / `), name.slice(cut + 1)];
}
function updateDurations() {
  for (const row of $('runs-body').children) {
    const run = state.runs.find((r) => r.runId === row.dataset.runId);
    if (run && !TERMINAL.has(run.status)) row.querySelector('.duration').textContent = fmtDuration(runDuration(run));
  }
}
function renderCounts() {
  const counts = Object.fromEntries(STATUSES.map((st) => [st, 0]));
  for (const r of state.runs) counts[r.status] = (counts[r.status] || 0) + 1;
  const chips = STATUSES.filter((st) => counts[st] > 0 || st === state.statusFilter).map((st) => h('button', {
    type: 'button', class: st === state.statusFilter ? 'active' : '', title: `show only ${st} runs`,
    onclick: () => { state.statusFilter = state.statusFilter === st ? '' : st; $('filter-status').value = state.statusFilter; refreshRuns(); renderCounts(); },
  }, st.toLowerCase(), h('b', {}, counts[st])));
  $('counts').replaceChildren(h('button', { type: 'button', title: 'runs shown' }, 'runs', h('b', {}, state.runs.length)), ...chips);
}

// ---- definitions and forms ------------------------------------------------------------------------------
async function loadDefinitions() {
  try {
    const data = await api('GET', '/api/definitions');
    state.definitions = data.definitions;
  } catch { return; }
  const kinds = { task: 'task', durableTask: 'durable task', workflow: 'workflow' };
  $('start-name').replaceChildren(...state.definitions.map((d) => h('option', { value: d.name }, `${d.name}  (${kinds[d.kind] || d.kind})`)));
  $('definition-names').replaceChildren(...state.definitions.map((d) => h('option', { value: d.name })));
  if (state.selected) renderDetail();
}
function openForm(id) {
  const forms = $('forms');
  const form = $(id);
  const wasOpen = form.classList.contains('open');
  for (const f of forms.querySelectorAll('form')) f.classList.remove('open');
  form.classList.toggle('open', !wasOpen);
  forms.classList.toggle('open', !wasOpen);
  if (!wasOpen) form.querySelector('input, select, textarea').focus();
}
function parseJsonField(id, what) {
  const text = $(id).value.trim();
  if (text === '') return {};
  try { return JSON.parse(text); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}
function setMsg(id, text, isError) { const el = $(id); el.textContent = text; el.classList.toggle('error', !!isError); }

$('open-start').addEventListener('click', () => openForm('start-form'));
$('open-push').addEventListener('click', () => openForm('push-form'));
for (const b of document.querySelectorAll('[data-close]')) b.addEventListener('click', () => openForm(b.closest('form').id));
$('start-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const input = parseJsonField('start-input', 'the input');
    const { runId } = await api('POST', '/api/runs', { name: $('start-name').value, input });
    setMsg('start-msg', `started ${shortId(runId)}`);
    location.hash = `#/runs/${encodeURIComponent(runId)}`;
    refreshRuns();
  } catch (e) { setMsg('start-msg', e.message, true); }
});
$('push-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const payload = parseJsonField('push-payload', 'the payload');
    const body = { key: $('push-key').value.trim(), payload };
    const scope = $('push-scope').value.trim();
    if (scope) body.scope = scope;
    const { eventId } = await api('POST', '/api/events', body);
    setMsg('push-msg', `pushed ${body.key} (${shortId(eventId)})`);
    toast(`event ${body.key} pushed`);
    setTimeout(refreshRuns, 300);
  } catch (e) { setMsg('push-msg', e.message, true); }
});
$('show-task-runs').addEventListener('change', (e) => { state.showTaskRuns = e.target.checked; refreshRuns(); });
$('filter-status').addEventListener('change', (e) => { state.statusFilter = e.target.value; refreshRuns(); });
let nameTimer;
$('filter-name').addEventListener('input', (e) => { clearTimeout(nameTimer); nameTimer = setTimeout(() => { state.nameFilter = e.target.value.trim(); refreshRuns(); }, 250); });

/** Fills the push form for a waiting event (key, scope). */
function preparePush(key, scope) {
  $('push-key').value = key;
  $('push-scope').value = scope || '';
  if (!$('push-form').classList.contains('open')) openForm('push-form');
  $('push-payload').focus();
}
