// Progress of long work: on a terminal one line redrawn in place (phase, bar, table, counts);
// otherwise a plain line per phase and table; with --json, one object per line on stdout.
import { formatBytes, formatCount, formatSeconds } from './human-format.ts';

export interface ProgressState {
  /** RESTORING, BACKING_UP, DECRYPTING... */
  phase: string;
  message?: string | null;
  table?: string | null;
  tablesDone?: number;
  tablesTotal?: number;
  /** Rows or bytes done of `total`; a bar only when the total is known. */
  done?: number;
  total?: number;
  unit?: 'rows' | 'bytes';
}

export type ProgressMode = 'bar' | 'lines' | 'json';

/** The bar is redrawn at most this often, unless the phase or table changes. */
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

export class ProgressDisplay {
  private state: ProgressState | null = null;
  private lastLine = '';
  private lastDraw = 0;
  private readonly started = Date.now();
  private ticker: NodeJS.Timeout | null = null;

  /**
   * `stdout` takes the JSON lines; `stderr` the bar or the plain lines. The bar's elapsed time
   * goes on every second, so work that reports nothing until it ends still shows it is alive.
   */
  constructor(
    readonly mode: ProgressMode,
    private readonly out: { stdout: (text: string) => void; stderr: NodeJS.WriteStream },
  ) {
    if (mode === 'bar') {
      this.ticker = setInterval(() => this.draw(true), 1000);
      this.ticker.unref();
    }
  }

  update(state: ProgressState): void {
    const previous = this.state;
    this.state = state;
    if (this.mode === 'json') return this.out.stdout(`${JSON.stringify({ type: 'progress', ...state })}\n`);
    const changed = previous?.phase !== state.phase || previous?.table !== state.table || previous?.message !== state.message;
    if (this.mode === 'lines') {
      if (changed) this.out.stderr.write(`${this.plainLine(state)}\n`);
      return;
    }
    this.draw(changed);
  }

  /** Leaves the bar's last state on its line; stops the clock. */
  end(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    if (this.mode === 'bar' && this.lastLine) {
      this.draw(true);
      this.out.stderr.write('\n');
      this.lastLine = '';
    }
  }

  private draw(force: boolean): void {
    if (!this.state || (!force && Date.now() - this.lastDraw < REDRAW_MS)) return;
    this.lastDraw = Date.now();
    const columns = this.out.stderr.columns || 80;
    const line = this.barLine(this.state).slice(0, columns - 1);
    this.out.stderr.write(`\r\x1b[2K${line}`);
    this.lastLine = line;
  }

  private barLine(state: ProgressState): string {
    const parts = [state.phase.padEnd(13)];
    if (state.total) {
      const share = Math.min(1, (state.done ?? 0) / state.total);
      const filled = Math.round(share * BAR_WIDTH);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`);
    }
    parts.push(formatSeconds(Date.now() - this.started).padStart(5));
    const detail = this.detail(state);
    if (detail) parts.push(detail);
    return parts.join('  ');
  }

  private plainLine(state: ProgressState): string {
    const detail = this.detail(state);
    return `${state.phase}${detail ? `: ${detail}` : ''}`;
  }

  /** The table and the counts while rows are written; else the phase's message, or the counts. */
  private detail(state: ProgressState): string {
    const counts: string[] = [];
    if (state.tablesTotal) counts.push(`${Math.min(state.tablesDone ?? 0, state.tablesTotal)} of ${state.tablesTotal} tables`);
    if (state.total) {
      const show = state.unit === 'bytes' ? formatBytes : formatCount;
      counts.push(`${show(state.done ?? 0)} of ${show(state.total)}${state.unit === 'rows' ? ' rows' : ''}`);
    }
    if (state.table) return `${state.table} (${counts.join(', ')})`;
    return state.message ?? counts.join(', ');
  }
}
