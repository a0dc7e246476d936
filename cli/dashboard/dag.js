// The dev dashboard (dag.js): a workflow run's DAG as inline SVG, with a layered layout.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- DAG ------------------------------------------------------------------------------------------------
const NODE_W = 140, NODE_H = 46, GAP_X = 44, GAP_Y = 16, PAD = 10;

/** Layers by longest path from a root; within a layer, ordered by the mean position of the parents. */
function layoutDag(tasks) {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0; // a cycle cannot be defined, but never loop
    seen.add(name);
    const parents = (byName.get(name) || { parents: [] }).parents.filter((p) => byName.has(p));
    const d = parents.length ? 1 + Math.max(...parents.map((p) => depthOf(p, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  const layers = [];
  for (const t of tasks) (layers[depthOf(t.name)] ||= []).push(t);
  const index = new Map();
  layers.forEach((layer, li) => {
    if (li > 0) {
      const score = (t) => { const ps = t.parents.filter((p) => index.has(p)); return ps.length ? ps.reduce((a, p) => a + index.get(p), 0) / ps.length : 0; };
      layer.sort((a, b) => score(a) - score(b));
    }
    layer.forEach((t, i) => index.set(t.name, i));
  });
  const tallest = Math.max(...layers.map((l) => l.length));
  const pos = new Map();
  layers.forEach((layer, li) => {
    const offset = ((tallest - layer.length) * (NODE_H + GAP_Y)) / 2;
    layer.forEach((t, i) => pos.set(t.name, { x: PAD + li * (NODE_W + GAP_X), y: PAD + offset + i * (NODE_H + GAP_Y) }));
  });
  return {
    pos,
    width: PAD * 2 + layers.length * NODE_W + (layers.length - 1) * GAP_X,
    height: PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y,
  };
}

const STATUS_COLOURS = {
  SUCCEEDED: ['--ok', '--ok-bg'], FAILED: ['--bad', '--bad-bg'], RUNNING: ['--run', '--run-bg'], WAITING: ['--wait', '--wait-bg'],
  QUEUED: ['--queue', '--queue-bg'], CANCELLED: ['--cancel', '--cancel-bg'], SKIPPED: ['--skip', '--skip-bg'], PENDING: ['--pending', '--pending-bg'],
};

function renderDag(run) {
  const def = state.definitions.find((d) => d.kind === 'workflow' && d.name === run.name);
  if (!def && !(run.tasks && run.tasks.length)) return null;
  const states = new Map((run.tasks || []).map((t) => [t.name, t]));
  const tasks = def ? def.tasks : run.tasks.map((t) => ({ name: t.name, parents: [] }));
  if (!tasks.length) return null;
  const { pos, width, height } = layoutDag(tasks);
  const svg = s('svg', { class: 'dag', width, height, style: `width: 100%; max-width: ${width}px; height: auto`, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `DAG of ${run.name}`, 'data-testid': 'dag' });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: 'var(--faint)' }))));
  for (const t of tasks) {
    for (const p of t.parents) {
      const a = pos.get(p), b = pos.get(t.name);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x - 2, y2 = b.y + NODE_H / 2, dx = (x2 - x1) / 2;
      svg.append(s('path', { class: 'edge', d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`, 'marker-end': 'url(#arrow)', 'data-from': p, 'data-to': t.name }));
    }
  }
  for (const t of tasks) {
    const st = states.get(t.name);
    const status = st ? st.status : 'PENDING';
    const [stroke, fill] = STATUS_COLOURS[status] || STATUS_COLOURS.PENDING;
    const { x, y } = pos.get(t.name);
    const tip = [`${t.name}: ${status}`, t.parents.length ? `after ${t.parents.join(', ')}` : 'root task',
      t.waitFor && `waits for ${t.waitFor}`, t.skipIf && `skip if ${t.skipIf}`, t.cancelIf && `cancel if ${t.cancelIf}`,
      st && st.runId ? 'click to open its run' : null].filter(Boolean).join('\n');
    const label = t.name.length > 17 ? `${t.name.slice(0, 16)}…` : t.name;
    const g = s('g', { class: `node${st && st.runId ? ' link' : ''}`, 'data-task': t.name, 'data-status': status, transform: `translate(${x} ${y})`,
      onclick: st && st.runId ? () => { location.hash = `#/runs/${encodeURIComponent(st.runId)}`; } : undefined },
      s('title', {}, tip),
      s('rect', { width: NODE_W, height: NODE_H, rx: 8, fill: `var(${fill})`, stroke: `var(${stroke})`, 'stroke-dasharray': status === 'SKIPPED' || status === 'PENDING' ? '4 3' : undefined }),
      s('circle', { cx: 14, cy: 16, r: 4, fill: `var(${stroke})` }),
      s('text', { x: 24, y: 20 }, label),
      s('text', { x: 24, y: 36, class: 'status', style: `fill: var(${stroke})` }, status));
    svg.append(g);
  }
  const shown = new Set(tasks.map((t) => (states.get(t.name) || { status: 'PENDING' }).status));
  const legend = h('div', { class: 'legend' }, [...shown].map((st) => badge(st)), run.metadata && run.metadata.eventKey ? h('span', { 'data-testid': 'trigger' }, `started by event ${run.metadata.eventKey}`) : null);
  return h('div', {}, h('div', { class: 'dag-wrap' }, svg), legend);
}
