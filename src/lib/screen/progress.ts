/**
 * Progress of a screening run: done / failed / in flight, images per second and ETA, in place in a notebook
 * (display.progress) or as a line in a terminal. The counts are also kept for the run's summary.
 */
import { progress as showProgress, type ProgressOptions } from '../../viz/display-core';
import type { ScreenResult } from './types';

export interface ScreenCounts {
  total: number;
  done: number;
  failed: number;
  inFlight: number;
  /** Results that arrived for a key already done (a job delivered twice): absorbed by the store. */
  duplicates: number;
}

export class ScreenProgress {
  readonly counts: ScreenCounts;
  private readonly bar?: ReturnType<typeof showProgress>;

  /** `show: false` keeps the counts only (tests, benches). */
  constructor(total: number, opts: { show?: boolean; label?: string } & ProgressOptions = {}) {
    this.counts = { total, done: 0, failed: 0, inFlight: 0, duplicates: 0 };
    if (opts.show !== false && total > 0) this.bar = showProgress(total, { label: opts.label ?? 'screen', ...opts });
  }

  /** A result was stored (`written` false: it duplicated one already done). */
  result(r: ScreenResult, written: boolean): void {
    if (!written) this.counts.duplicates += 1;
    else if (r.status === 'failed') this.counts.failed += 1;
    else this.counts.done += 1;
    this.render();
  }

  setInFlight(n: number): void {
    this.counts.inFlight = n;
    this.render();
  }

  /** The final state: a complete bar, or (a stopped run) where it stopped. */
  finish(): void {
    const { done, failed, total } = this.counts;
    if (done + failed >= total) this.bar?.done(this.info());
    else this.render();
  }

  private info(): Record<string, number> {
    return { failed: this.counts.failed, in_flight: this.counts.inFlight };
  }

  private render(): void {
    this.bar?.update(this.counts.done + this.counts.failed, this.info());
  }
}
