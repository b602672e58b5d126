// A backbone wrapper that records when each call kept the "GPU" busy, for utilisation figures.
import type { Backbone, ChatRequest, EditRequest, GenerateRequest } from '../backbones/backbone';

export interface Interval {
  op: 'chat' | 'generate' | 'edit';
  /** Epoch milliseconds (fractional), comparable across processes on one machine. */
  start: number;
  end: number;
}

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export class MeteredBackbone implements Backbone {
  readonly intervals: Interval[] = [];
  constructor(private readonly inner: Backbone) {}

  get capabilities() {
    return this.inner.capabilities;
  }

  chat(request: ChatRequest): Promise<string> {
    return this.timed('chat', () => this.inner.chat(request));
  }

  generate(request: GenerateRequest): Promise<Buffer> {
    return this.timed('generate', () => this.inner.generate(request));
  }

  edit(request: EditRequest): Promise<Buffer> {
    return this.timed('edit', () => this.inner.edit(request));
  }

  private async timed<T>(op: Interval['op'], call: () => Promise<T>): Promise<T> {
    const start = epochMs();
    try {
      return await call();
    } finally {
      this.intervals.push({ op, start, end: epochMs() });
    }
  }
}

/** Busy milliseconds of `intervals` within [from, to]. */
export function busyWithin(intervals: readonly Interval[], from: number, to: number): number {
  return intervals.reduce((sum, i) => sum + Math.max(0, Math.min(i.end, to) - Math.max(i.start, from)), 0);
}
