// Cine: plays the stack as a loop at a chosen rate (1–60 frames per second, 15 by default). A
// timer ticks at the rate, and a tick only moves on when the slice shown last is on screen (or
// has failed and says so); a tick that comes while a slice is still loading or not yet drawn is
// dropped, so a slow network slows the loop instead of queueing requests. The slices ahead come
// from cornerstone's cache, filled by the viewport's prefetcher. Any other change of slice — the
// wheel, a key, the slider, a click in the measurement list, another series — stops playing, as
// does leaving the screen. The viewport is reached through a small interface: unit-tested.

export const CINE_MIN_FPS = 1;
export const CINE_MAX_FPS = 60;
export const CINE_DEFAULT_FPS = 15;

export interface CineTarget {
  readonly index: number;
  readonly length: number;
  /** True when the current slice is drawn on screen, or has failed and says so. */
  settled(): boolean;
  show(index: number): Promise<void>;
  onChange(listener: () => void): void;
}

export interface CineTimers {
  every(ms: number, tick: () => void): () => void;
}

const browserTimers: CineTimers = {
  every(ms, tick) {
    const id = setInterval(tick, ms);
    return () => clearInterval(id);
  },
};

export function clampFps(value: number): number {
  if (!Number.isFinite(value)) return CINE_DEFAULT_FPS;
  return Math.min(CINE_MAX_FPS, Math.max(CINE_MIN_FPS, Math.round(value)));
}

export class Cine {
  private rate = CINE_DEFAULT_FPS;
  private stopTimer: (() => void) | undefined;
  /** The slice this player asked for last; any other slice means someone else moved. */
  private expected: number | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly target: CineTarget,
    private readonly timers: CineTimers = browserTimers,
  ) {
    target.onChange(() => {
      if (this.playing && this.target.index !== this.expected) this.stop();
    });
  }

  get playing(): boolean {
    return this.stopTimer !== undefined;
  }

  get fps(): number {
    return this.rate;
  }

  set fps(value: number) {
    this.rate = clampFps(value);
    if (this.playing) this.restartTimer();
    this.changed();
  }

  play(): void {
    if (this.playing || this.target.length < 2) return;
    this.expected = this.target.index;
    this.restartTimer();
    this.changed();
  }

  stop(): void {
    if (!this.stopTimer) return;
    this.stopTimer();
    this.stopTimer = undefined;
    this.expected = undefined;
    this.changed();
  }

  toggle(): void {
    if (this.playing) this.stop();
    else this.play();
  }

  /** One timer tick: on to the next slice (after the last, the first), or dropped. */
  tick(): void {
    if (!this.playing) return;
    if (this.target.length < 2) return this.stop();
    if (!this.target.settled()) return;
    const next = (this.target.index + 1) % this.target.length;
    this.expected = next;
    void this.target.show(next);
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private restartTimer(): void {
    this.stopTimer?.();
    this.stopTimer = this.timers.every(1000 / this.rate, () => this.tick());
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
