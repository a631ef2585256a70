// Rotating and flipping the image on screen. Cornerstone applies hflip/vflip to the image before
// its rotation, so right after a 90° turn the image's own horizontal axis runs up and down the
// screen: a "flip horizontal" button must then set vflip to mirror what the reader sees left to
// right. These functions answer the viewport change for what the reader asked, as seen on
// screen. The rotation turns about the image centre; measurements keep their image pixel
// coordinates and follow through cornerstone.pixelToCanvas. Pure: unit-tested.

export interface Orientation {
  /** Degrees, clockwise on screen; 0, 90, 180 or 270. */
  rotation: number;
  hflip: boolean;
  vflip: boolean;
}

/** Turns the image a quarter clockwise on screen (`right`) or anticlockwise (`left`). */
export function rotated(current: Orientation, direction: 'left' | 'right'): Orientation {
  const rotation = (((current.rotation + (direction === 'right' ? 90 : -90)) % 360) + 360) % 360;
  return { ...current, rotation };
}

/** Mirrors the image as seen on screen: left to right (`horizontal`) or top to bottom (`vertical`). */
export function flipped(current: Orientation, axis: 'horizontal' | 'vertical'): Orientation {
  const sideways = Math.round(current.rotation / 90) % 2 === 1;
  const flipsImageColumns = (axis === 'horizontal') !== sideways;
  return flipsImageColumns ? { ...current, hflip: !current.hflip } : { ...current, vflip: !current.vflip };
}
