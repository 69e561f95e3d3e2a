/** The printed table and bench/results/latest.json: every figure beside its baseline, the ratio and the target. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './stats';

export type Verdict = 'PASS' | 'MISS';

export interface Row {
  section: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
  /** e.g. "ratio ≤ 1.5", "≤ 4". */
  target?: string;
  verdict?: Verdict;
  note?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** Picks a verdict for `value` against a bound; a NaN (missing baseline) is a miss, never a pass. */
export const atMost = (value: number, bound: number): Verdict => (Number.isFinite(value) && value <= bound + 1e-9 ? 'PASS' : 'MISS');
export const atLeast = (value: number, bound: number): Verdict => (Number.isFinite(value) && value >= bound - 1e-9 ? 'PASS' : 'MISS');

function formatNumber(value: number | undefined, unit = ''): string {
  if (value === undefined) return '';
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === '$' ? `$${text}` : unit ? `${text} ${unit}` : text;
}

/** A plain-text table, one block per section; wide enough for a terminal, no colour codes (it is also logged). */
export function formatTable(rows: readonly Row[]): string {
  const header = ['metric', 'figure', 'baseline', 'ratio', 'target', ''];
  const lines: string[][] = [];
  let section = '';
  const sectionBreaks = new Set<number>();
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      sectionBreaks.add(lines.length);
      lines.push([`${row.section}`, '', '', '', '', '']);
    }
    lines.push([
      `  ${row.metric}`,
      formatNumber(row.value, row.unit),
      formatNumber(row.baseline, row.unit),
      row.ratio === undefined ? '' : `${formatNumber(row.ratio)}×`,
      row.target ?? '',
      row.verdict ?? '',
    ]);
  }
  // Section titles run across the columns: they do not widen the first one.
  const cells = lines.filter((_, i) => !sectionBreaks.has(i));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((l) => l[i]!.length)));
  const render = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 1 || i === 2 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [render(header), rule];
  lines.forEach((line, i) => {
    if (sectionBreaks.has(i) && i > 0) out.push('');
    out.push(sectionBreaks.has(i) ? line[0]! : render(line));
  });
  const notes = rows.filter((r) => r.note).map((r) => `  - ${r.metric}: ${r.note}`);
  return [...out, ...(notes.length > 0 ? ['', 'notes:', ...notes] : [])].join('\n');
}

export function writeJson(file: string, report: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? round(value, 4) : value), 2)}\n`,
  );
}
