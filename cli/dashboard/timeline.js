// The dev dashboard (timeline.js): a run's timeline: its durable calls in time order, per attempt.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- timeline -------------------------------------------------------------------------------------------
const KIND_LABELS = { step: 'Step', sleep: 'Sleep', wait: 'Wait', event: 'Wait for event', child: 'Child run', spawn: 'Spawn child', now: 'Clock', stream: 'Stream chunk' };
const MARKS = { done: '✓', failed: '✕', retrying: '↻', waiting: '' };

function renderTimeline(run) {
  if (run.operations.length === 0) {
    return h('div', { class: 'form-msg', 'data-testid': 'timeline' }, TERMINAL.has(run.status) ? 'This run made no durable calls.' : 'No durable calls yet.');
  }
  const list = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  const attempts = new Set(run.operations.map((op) => op.attempt));
  let lastAttempt = -1;
  // In time order within each attempt (a workflow's gates and parallel branches take positions out of order).
  const ops = [...run.operations].sort((a, b) => a.attempt - b.attempt || Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.position - b.position);
  for (const op of ops) {
    if (attempts.size > 1 && op.attempt !== lastAttempt) {
      lastAttempt = op.attempt;
      list.append(h('li', { class: 'attempt-sep' }, `Attempt ${op.attempt}${op.attempt < run.attempt ? ' · failed, retried' : ''}`));
    }
    list.append(renderOperation(op, run));
  }
  return list;
}

function renderOperation(op, run) {
  const body = [];
  // The API says `sleeping` for a sleep still ahead (and `interrupted` for one its run's end cut short).
  const sleeping = op.status === 'sleeping';
  const status = sleeping ? 'waiting' : op.status;
  if (op.status === 'waiting') {
    for (const w of op.waitingFor || []) body.push(renderCondition(w));
  }
  if (op.kind === 'sleep' && op.dueAt && op.status !== 'waiting') body.push(h('div', { class: 'cond' }, h('span', { class: 'tag' }, 'timer'), `${sleeping ? 'until' : op.status === 'interrupted' ? 'was due' : 'woke at'} ${fmtTime(op.dueAt)}`, h('span', { class: 'sub' }, `(${fmtRelative(op.dueAt)})`)));
  const child = childRunOf(op);
  if (child && op.status !== 'waiting') body.push(h('div', { class: 'cond' }, h('span', { class: 'tag' }, 'run'), runLink(child, child)));
  if (op.resolvedBy && !child && op.resolvedBy !== op.name) body.push(h('div', {}, 'resolved by ', h('code', {}, op.resolvedBy)));
  else if (op.resolvedBy && op.kind === 'event') body.push(h('div', {}, 'resolved by a matching ', h('code', {}, op.resolvedBy), ' event'));
  if (op.status === 'retrying') body.push(h('div', { style: 'color: var(--wait)' }, `failed, retrying${op.dueAt ? ` at ${fmtTime(op.dueAt)} (${fmtRelative(op.dueAt)})` : ''}`));
  if (op.error) body.push(h('div', { class: 'error-box' }, h('b', {}, op.error.name), op.error.message));
  if (op.result !== undefined && op.kind !== 'sleep') body.push(jsonBlock(op.result, 1200));

  return h('li', { class: `op ${status}`, dataset: { kind: op.kind, status, position: op.position } },
    h('span', { class: 'marker' }, MARKS[status] || ''),
    h('div', { class: 'op-head' },
      h('span', { class: 'op-kind' }, KIND_LABELS[op.kind] || op.kind),
      op.name ? h('span', { class: 'op-name' }, op.name) : null,
      op.seq !== undefined ? h('span', { class: 'tag', title: "the chunk's place in the run's stream" }, `#${op.seq}`) : null,
      status !== 'done' ? h('span', { class: 'tag' }, sleeping ? 'sleeping' : status) : null,
      h('span', { class: 'op-time', title: op.createdAt }, fmtTime(op.createdAt))),
    body.length ? h('div', { class: 'op-body' }, body) : null);
}

function renderCondition(w) {
  if (w.type === 'sleep') return h('div', { class: 'cond' }, h('span', { class: 'tag' }, 'timer'), `until ${fmtTime(w.dueAt)}`, h('span', { class: 'sub' }, `(${fmtRelative(w.dueAt)})`));
  if (w.type === 'event') {
    return h('div', { class: 'cond' },
      h('span', { class: 'tag' }, 'event'), h('code', {}, w.eventKey || w.key),
      w.expression ? [h('span', {}, 'where'), h('code', { title: 'CEL filter over the payload (input)' }, w.expression)] : h('span', { class: 'sub' }, 'any payload'),
      w.scope ? [h('span', {}, 'scope'), h('code', {}, w.scope)] : null,
      h('button', { class: 'btn small', type: 'button', onclick: () => preparePush(w.eventKey || w.key, w.scope) }, 'Push…'));
  }
  if (w.type === 'child') return h('div', { class: 'cond' }, h('span', { class: 'tag' }, 'child'), w.childRunId ? runLink(w.childRunId, w.childRunId) : w.key);
  return h('div', { class: 'cond' }, h('span', { class: 'tag' }, w.type), h('code', {}, w.key));
}

function childRunOf(op) {
  if (op.kind !== 'child' && op.kind !== 'spawn') return undefined;
  const waiting = (op.waitingFor || []).find((w) => w.childRunId);
  if (waiting) return waiting.childRunId;
  if (op.kind === 'child' && op.resolvedBy) return op.resolvedBy;
  return op.result && typeof op.result.runId === 'string' ? op.result.runId : undefined;
}
