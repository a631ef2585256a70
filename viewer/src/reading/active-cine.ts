// The cine controls in the toolbar drive the active cell's player. This stands in for that
// player: play/stop go to the active cell's, the rate is one for all cells (so switching cells
// never surprises with another speed), and the controls re-render when the active cell changes
// or any player starts or stops.
import type { Cine } from './cine.js';
import type { CineControl } from './cine-controls.js';

export class ActiveCine implements CineControl {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly active: () => Cine,
    private readonly all: () => Cine[],
  ) {}

  get fps(): number {
    return this.active().fps;
  }

  set fps(value: number) {
    for (const cine of this.all()) cine.fps = value;
  }

  get playing(): boolean {
    return this.active().playing;
  }

  toggle(): void {
    this.active().toggle();
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** The active cell changed, or a player started or stopped. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }
}
