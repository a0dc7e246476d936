// The dev dashboard (base.js): state, DOM helpers (text only), formatting, the JSON API client, the live indicator and the toast.
// A classic script: index.html loads the scripts in order and they share one global scope.
'use strict';

// ---- state ---------------------------------------------------------------------------------------------
const state = {
  runs: [],
  runsText: '',
  definitions: [],
  serverOffsetMs: 0,        // server clock (virtual in tests) minus the browser's
  selectedId: null,
  selected: null,           // RunDetails
  stream: null,             // EventSource of the selected run
  statusFilter: '',
  nameFilter: '',
  showTaskRuns: false,      // runs of DAG tasks are named '<workflow>/<task>'
  cronsText: '',
};
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);
const STATUSES = ['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];
const $ = (id) => document.getElementById(id);

// ---- DOM helpers (text only: never innerHTML with server data) -----------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}
const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const badge = (status) => h('span', { class: `badge s-${status}`, dataset: { status } }, status);
const runLink = (runId, label) => h('a', { href: `#/runs/${encodeURIComponent(runId)}`, class: 'mono', title: runId }, label || shortId(runId));
/**
 * A legible short form: each UUID in the id shortened in its middle (`order-fulfilment:3f2a9c1e…cea1`, a child's
 * `1b2c3d4e…9f0a.0.2`), so the workflow name and the suffixes stay; other long ids keep their start and end.
 * Where it is shown, a title holds the full id.
 */
function shortId(id) {
  const short = id.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (u) => `${u.slice(0, 8)}…${u.slice(-4)}`);
  if (short !== id || id.length <= 32) return short;
  return `${id.slice(0, 20)}…${id.slice(-8)}`;
}

// ---- formatting -----------------------------------------------------------------------------------------
function serverNow() { return Date.now() + state.serverOffsetMs; }
function fmtDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec < 10 ? sec.toFixed(1) : Math.round(sec)}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m ${Math.round(sec % 60)}s`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}
function runDuration(run) {
  const end = TERMINAL.has(run.status) ? Date.parse(run.updatedAt) : serverNow();
  return end - Date.parse(run.createdAt);
}
/** Date, time and zone, always (`2026-12-03 08:30:55 UTC`): the server's clock may be virtual, or days away. */
function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
function fmtRelative(iso) {
  const delta = Date.parse(iso) - serverNow();
  if (!Number.isFinite(delta)) return '';
  return delta >= 0 ? `in ${fmtDuration(delta)}` : `${fmtDuration(-delta)} ago`;
}
function jsonText(value, max) {
  let text;
  try { text = JSON.stringify(value, null, 2); } catch { text = String(value); }
  if (text === undefined) text = 'undefined';
  return max && text.length > max ? `${text.slice(0, max)}\n…` : text;
}
const jsonBlock = (value, max) => h('pre', { class: 'json' }, jsonText(value, max));

// ---- API ------------------------------------------------------------------------------------------------
async function api(method, path, body) {
  const init = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
  let res;
  try { res = await fetch(path, init); } catch (e) { setLive(false); throw new Error('the dev server is not reachable'); }
  setLive(true);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error ? `${data.error.name}: ${data.error.message}` : `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}
function setLive(up) {
  $('live').classList.toggle('down', !up);
  $('live-text').textContent = up ? 'live' : 'disconnected';
}
let toastTimer;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 2600);
}
