/**
 * What the panel shows, computed from the server's answers: no DOM, no JupyterLab,
 * so it is unit tested on its own.
 */

/** A function with stored results (`GET /hitnb/api/functions`). */
export interface IFunctionRow {
  function: string;
  name: string;
  entries: number;
  experiments: number;
  bytes: number;
}

/** One stored entry (`GET /hitnb/api/entries`). */
export interface IEntryRow {
  key: string;
  function: string;
  name: string;
  created: number;
  duration: number;
  size: number;
  hits: number;
  experiment: boolean;
  status: string;
}

/** An experiment and its number of runs (`GET /hitnb/api/experiments`). */
export interface IExperimentRow {
  function: string;
  name: string;
  runs: number;
}

/** An experiment's runs (`GET /hitnb/api/experiments/<function>`). */
export interface IRuns {
  function: string;
  total: number;
  metrics: string[];
  runs: Array<Record<string, unknown>>;
}

/** The store as a whole (`GET /hitnb/api/stats`). */
export interface IStats {
  store: string;
  entries: number;
  experiments: number;
  bytes: number;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Bytes for people: `1536` is `1.5 KB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds for people: `0.0042` is `4 ms`, `75` is `1m 15s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m ${Math.round(seconds - minutes * 60)}s`;
}

/** A one-line summary of the store. */
export function usage(stats: IStats): string {
  const runs = stats.experiments === 1 ? 'run' : 'runs';
  const entries = stats.entries === 1 ? 'entry' : 'entries';
  return (
    `${stats.entries} ${entries}, ${stats.experiments} experiment ${runs}, ` +
    formatBytes(stats.bytes)
  );
}

const FIXED = ['key', 'status', 'duration'];

/**
 * The columns of a runs table: key, status and duration first, then the parameters in the
 * order the runs give them, then the metrics.
 */
export function runColumns(runs: IRuns): string[] {
  const metrics = new Set(runs.metrics);
  const parameters: string[] = [];
  for (const run of runs.runs) {
    for (const name of Object.keys(run)) {
      if (!FIXED.includes(name) && name !== 'created' && !metrics.has(name)) {
        if (!parameters.includes(name)) {
          parameters.push(name);
        }
      }
    }
  }
  return [...FIXED, ...parameters, ...runs.metrics];
}

/** A cell of a runs table as text. */
export function formatCell(column: string, value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (column === 'key') {
    return String(value).slice(0, 10);
  }
  if (column === 'duration' && typeof value === 'number') {
    return formatDuration(value);
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return Number(value.toPrecision(4)).toString();
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Rows sorted by a column; numbers compare as numbers, missing values go last either way.
 * The input is left as it was.
 */
export function sortRows<T extends Record<string, unknown>>(
  rows: T[],
  column: string,
  descending = false
): T[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === undefined || x === null) {
      return y === undefined || y === null ? 0 : 1;
    }
    if (y === undefined || y === null) {
      return -1;
    }
    if (typeof x === 'number' && typeof y === 'number') {
      return sign * (x - y);
    }
    return sign * String(x).localeCompare(String(y));
  });
}

/** Where a run's exported notebook goes, relative to the server's root. */
export function exportPath(functionName: string, key: string): string {
  const safe = functionName.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return `hitnb-exports/${safe}-${key.slice(0, 10)}.ipynb`;
}
