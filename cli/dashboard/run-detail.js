// The dev dashboard (run-detail.js): the selected run: loading it, following it live (Server-Sent Events), cancel/fork, its detail panel.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- selected run ---------------------------------------------------------------------------------------
async function selectRun(runId) {
  if (state.stream) { state.stream.close(); state.stream = null; }
  state.selectedId = runId;
  state.selected = null;
  for (const row of $('runs-body').children) row.classList.toggle('selected', row.dataset.runId === runId);
  if (!runId) { renderDetail(); return; }
  try {
    state.selected = await api('GET', `/api/runs/${encodeURIComponent(runId)}`);
  } catch (e) {
    if (state.selectedId !== runId) return;
    $('detail').replaceChildren(h('div', { class: 'placeholder' }, h('b', {}, e.status === 404 ? 'Run not found' : 'Could not load the run'), e.message));
    return;
  }
  if (state.selectedId !== runId) return;
  renderDetail();
  if (!TERMINAL.has(state.selected.status)) follow(runId);
}
/** `?live=0`: no stream and no polling, so the page settles (`load`, network idle) for a screenshot. */
const LIVE = new URLSearchParams(location.search).get('live') !== '0';
function follow(runId) {
  if (!LIVE) return;
  // After `load`: a stream opened during the load would hold the page's load (and a headless screenshot) forever.
  if (document.readyState !== 'complete') {
    window.addEventListener('load', () => { if (state.selectedId === runId && !state.stream) follow(runId); }, { once: true });
    return;
  }
  const es = new EventSource(`/api/runs/${encodeURIComponent(runId)}/stream`);
  state.stream = es;
  const onRun = (event) => {
    if (state.selectedId !== runId) return;
    state.selected = JSON.parse(event.data);
    renderDetail();
    const row = [...$('runs-body').children].find((r) => r.dataset.runId === runId);
    if (row && row.dataset.status !== state.selected.status) refreshRuns();
  };
  es.addEventListener('run', onRun);
  es.addEventListener('end', (event) => { onRun(event); es.close(); if (state.stream === es) state.stream = null; refreshRuns(); });
  es.onopen = () => setLive(true);
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) setLive(false); };
}
/** As the server names it (cli/server/dev-server.ts historyFileName). */
function historyFileName(run) {
  return `${run.name}-${run.runId}.json`.replace(/[^A-Za-z0-9._-]/g, '_');
}
async function cancelSelected() {
  const run = state.selected;
  if (!run) return;
  try {
    state.selected = await api('POST', `/api/runs/${encodeURIComponent(run.runId)}/cancel`, {});
    renderDetail();
    toast(`cancel requested for ${shortId(run.runId)}`);
    refreshRuns();
  } catch (e) { toast(e.message); }
}
/** The step names a finished durable task run can be forked from (first occurrence order). */
function forkableSteps(run) {
  if (!TERMINAL.has(run.status) || run.status === 'SKIPPED' || run.workflowRunId || (run.tasks && run.tasks.length)) return [];
  return [...new Set(run.operations.filter((op) => op.kind === 'step').map((op) => op.name))];
}
async function forkSelected() {
  const run = state.selected;
  const select = $('fork-step');
  if (!run || !select) return;
  try {
    const fork = await api('POST', `/api/runs/${encodeURIComponent(run.runId)}/fork`, { fromStep: select.value });
    toast(`forked ${shortId(run.runId)} from '${select.value}'`);
    refreshRuns();
    location.hash = `#/runs/${encodeURIComponent(fork.runId)}`;
  } catch (e) { toast(e.message); }
}

function renderDetail() {
  const run = state.selected;
  const root = $('detail');
  if (!run) {
    root.replaceChildren(h('div', { class: 'placeholder' }, h('b', {}, 'Select a run'), 'Its timeline, input and output, and for a workflow its DAG, show here and update live.'));
    return;
  }
  const scrollTop = root.scrollTop;
  const meta = [
    ['created', fmtTime(run.createdAt), run.createdAt],
    ['updated', fmtTime(run.updatedAt), run.updatedAt],
    ['duration', fmtDuration(runDuration(run)), undefined, 'run-duration'],
    ['attempt', String(run.attempt ?? 0), 'the run\'s attempt as the API counts it (0 = the first)'],
  ];
  const metaEls = meta.map(([k, v, title, id]) => h('div', {}, h('span', {}, k), h('span', { title: title || v, id }, v)));
  if (run.parentRunId) metaEls.push(h('div', {}, h('span', {}, 'parent run'), h('span', {}, runLink(run.parentRunId))));
  if (run.workflowRunId) metaEls.push(h('div', {}, h('span', {}, 'workflow run'), h('span', {}, runLink(run.workflowRunId))));
  if (run.metadata && typeof run.metadata.forkedFrom === 'string') metaEls.push(h('div', {}, h('span', {}, 'forked from'), h('span', { 'data-testid': 'forked-from' }, runLink(run.metadata.forkedFrom), ` at '${run.metadata.forkedFromStep}'`)));
  if (run.waitingFor) metaEls.push(h('div', {}, h('span', {}, 'queued by'), h('span', { class: 'mono' }, run.waitingFor)));
  if (run.concurrencyKey) metaEls.push(h('div', {}, h('span', {}, 'concurrency key'), h('span', { class: 'mono' }, run.concurrencyKey)));
  if (run.idempotencyKey) metaEls.push(h('div', {}, h('span', {}, 'idempotency key'), h('span', { class: 'mono' }, run.idempotencyKey)));
  if (run.metadata && run.metadata.eventKey) metaEls.push(h('div', {}, h('span', {}, 'started by event'), h('span', { class: 'mono' }, run.metadata.eventKey)));

  const children = [
    h('div', { class: 'detail-head' },
      h('h1', {}, run.name), badge(run.status), h('span', { class: 'spacer' }),
      h('a', { class: 'btn small', href: `/api/runs/${encodeURIComponent(run.runId)}/export?download=1`, download: historyFileName(run), title: 'The recorded history (JSON, format 1) for replayHistory and `durable replay`', 'data-testid': 'export-run' }, 'Download history'),
      ...renderForkControls(run),
      TERMINAL.has(run.status) ? null : h('button', { class: 'btn danger small', type: 'button', onclick: cancelSelected, 'data-testid': 'cancel-run' }, 'Cancel run')),
    h('div', { class: 'runid', 'data-testid': 'run-id' }, run.runId),
    h('div', { class: 'meta' }, metaEls),
  ];
  if (run.error) children.push(h('div', { class: 'section' }, h('div', { class: 'error-box', 'data-testid': 'run-error' }, h('b', {}, run.error.name), run.error.message)));
  const dag = renderDag(run);
  if (dag) children.push(h('div', { class: 'section' }, h('div', { class: 'section-title' }, 'Workflow'), dag));
  children.push(h('div', { class: 'section' },
    h('div', { class: 'section-title' }, 'Timeline', h('span', { class: 'tag' }, `${run.operations.length} durable call${run.operations.length === 1 ? '' : 's'}`)),
    renderTimeline(run)));
  children.push(h('div', { class: 'section io' },
    h('div', {}, h('div', { class: 'section-title' }, 'Input'), jsonBlock(run.input, 20000)),
    h('div', {}, h('div', { class: 'section-title' }, 'Output'), run.output === undefined ? h('div', { class: 'form-msg' }, TERMINAL.has(run.status) ? 'none' : 'not yet') : jsonBlock(run.output, 20000))));
  const wrapper = h('div', { class: 'detail', 'data-run-id': run.runId, 'data-status': run.status }, children);
  root.replaceChildren(wrapper);
  root.scrollTop = scrollTop;
}

/** A step picker and the "Fork from step" button (runs.fork: a new run keeping what was recorded before that step). */
function renderForkControls(run) {
  const steps = forkableSteps(run);
  if (!steps.length) return [];
  const title = 'Start a new run of the current code that keeps what this run recorded before the chosen step and re-executes from it';
  return [
    h('select', { id: 'fork-step', class: 'small', 'aria-label': 'step to fork from', 'data-testid': 'fork-step' }, steps.map((name) => h('option', { value: name }, name))),
    h('button', { class: 'btn small', type: 'button', onclick: forkSelected, title, 'data-testid': 'fork-run' }, 'Fork from step'),
  ];
}
