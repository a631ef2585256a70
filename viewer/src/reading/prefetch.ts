// Loads the slices around the one on screen into cornerstone's cache, nearest first, a few at a
// time, so scrolling on finds them ready. A new position replaces the queue; failures are left
// for the viewport to report when the slice is actually shown.
import cornerstone from 'cornerstone-core';

const CONCURRENCY = 3;
const REACH = 5;

export class Prefetcher {
  private queue: string[] = [];
  private running = 0;

  /** Queues the neighbours of `index` in `imageIds` (±1, ±2, … up to REACH). */
  around(imageIds: readonly string[], index: number): void {
    const order: string[] = [];
    for (let step = 1; step <= REACH; step++) {
      if (index + step < imageIds.length) order.push(imageIds[index + step]);
      if (index - step >= 0) order.push(imageIds[index - step]);
    }
    this.queue = order.filter((id) => !cornerstone.imageCache.getImageLoadObject(id));
    this.pump();
  }

  stop(): void {
    this.queue = [];
  }

  private pump(): void {
    while (this.running < CONCURRENCY && this.queue.length) {
      const imageId = this.queue.shift()!;
      if (cornerstone.imageCache.getImageLoadObject(imageId)) continue;
      this.running++;
      cornerstone
        .loadAndCacheImage(imageId)
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
