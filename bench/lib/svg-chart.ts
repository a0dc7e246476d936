/**
 * The W5 chart, hand-written SVG (no dependencies): resume time against journal length (log–log), and the
 * whole run's requests divided by n (flat means O(n) requests per run), one line per mode.
 */
import type { W5Point } from '../workloads/w5-resume-cost.ts';

export interface Series {
  label: string;
  color: string;
  points: W5Point[];
}

const W = 800;
const H = 340;
const PANEL = { w: 300, h: 220, top: 66, left: [70, 460] as const };

export function w5Chart(series: Series[], caption: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const ns = all.map((p) => p.n);
  const xMin = Math.min(...ns);
  const xMax = Math.max(...ns);
  const log = Math.log10;
  const x = (left: number) => (n: number) => left + (xMax === xMin ? PANEL.w / 2 : ((log(n) - log(xMin)) / (log(xMax) - log(xMin))) * PANEL.w);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">W5: resume cost against journal length</text>`);
  parts.push(`<text x="${W / 2}" y="37" text-anchor="middle" fill="#555">${escape(caption)}</text>`);

  // Left panel: resume ms, log scale.
  const ms = all.map((p) => Math.max(p.resumeMs, 0.01));
  const yLo = Math.floor(log(Math.min(...ms)));
  const yHi = Math.ceil(log(Math.max(...ms)));
  const yLeft = (v: number) => PANEL.top + PANEL.h - ((log(Math.max(v, 0.01)) - yLo) / Math.max(1, yHi - yLo)) * PANEL.h;
  const yTicks = Array.from({ length: yHi - yLo + 1 }, (_, i) => 10 ** (yLo + i));
  parts.push(panel(PANEL.left[0], 'resume (push → finished), ms, log scale', ns, x(PANEL.left[0]), yTicks, yLeft, (v) => fmt(v)));
  for (const s of series) parts.push(line(s.points.map((p) => [x(PANEL.left[0])(p.n), yLeft(p.resumeMs)]), s.color));

  // Right panel: run requests / n, linear from 0.
  const per = all.map((p) => p.requestsPerStep);
  const top = niceMax(Math.max(...per));
  const yRight = (v: number) => PANEL.top + PANEL.h - (v / top) * PANEL.h;
  const rTicks = [0, top / 4, top / 2, (3 * top) / 4, top];
  parts.push(panel(PANEL.left[1], 'whole run: requests ÷ n (flat = O(n))', ns, x(PANEL.left[1]), rTicks, yRight, (v) => fmt(v)));
  for (const s of series) parts.push(line(s.points.map((p) => [x(PANEL.left[1])(p.n), yRight(p.requestsPerStep)]), s.color));

  // Legend.
  series.forEach((s, i) => {
    const lx = 70 + i * 200;
    parts.push(`<line x1="${lx}" y1="${H - 14}" x2="${lx + 24}" y2="${H - 14}" stroke="${s.color}" stroke-width="2.5"/>`);
    parts.push(`<text x="${lx + 30}" y="${H - 10}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function panel(left: number, title: string, ns: number[], x: (n: number) => number, yTicks: number[], y: (v: number) => number, label: (v: number) => string): string {
  const out: string[] = [];
  const bottom = PANEL.top + PANEL.h;
  out.push(`<text x="${left + PANEL.w / 2}" y="${PANEL.top - 10}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${left + PANEL.w}" y2="${bottom}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  for (const t of yTicks) {
    const ty = y(t);
    out.push(`<line x1="${left}" y1="${ty}" x2="${left + PANEL.w}" y2="${ty}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${ty + 4}" text-anchor="end">${label(t)}</text>`);
  }
  for (const n of [...new Set(ns)].sort((a, b) => a - b)) {
    out.push(`<line x1="${x(n)}" y1="${bottom}" x2="${x(n)}" y2="${bottom + 4}" stroke="#333"/>`);
    out.push(`<text x="${x(n)}" y="${bottom + 16}" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
  }
  out.push(`<text x="${left + PANEL.w / 2}" y="${bottom + 30}" text-anchor="middle" fill="#555">journal length n (steps before the wait)</text>`);
  return out.join('\n');
}

function line(points: [number, number][], color: string): string {
  const d = points.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
  const dots = points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`).join('');
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${dots}`;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? String(Number(v.toFixed(2))) : String(Number(v.toPrecision(2)));
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
