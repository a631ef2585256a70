// Small line icons for the compact toolbar buttons (rotate, flip, cine, layouts), built as SVG elements —
// no icon font, whose glyphs a reading-room PC may lack, and no markup strings. Each button that
// shows one carries its name in title and aria-label.
const SVG = 'http://www.w3.org/2000/svg';

const PATHS = {
  rotateLeft: ['M4 9a8 8 0 1 1 2 8', 'M4 3v6h6'],
  rotateRight: ['M20 9a8 8 0 1 0-2 8', 'M20 3v6h-6'],
  flipHorizontal: ['M12 3v18', 'M9 6 3 18h6z', 'M15 6l6 12h-6z'],
  flipVertical: ['M3 12h18', 'M6 9 18 3v6z', 'M6 15l12 6v-6z'],
  play: ['M7 4v16l13-8z'],
  stop: ['M6 6h12v12H6z'],
  layout1x1: ['M4 4h16v16H4z'],
  layout1x2: ['M4 4h16v16H4z', 'M12 4v16'],
  layout2x2: ['M4 4h16v16H4z', 'M12 4v16', 'M4 12h16'],
} as const;

export type IconName = keyof typeof PATHS;
const FILLED = new Set<IconName>(['play', 'stop']);

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', FILLED.has(name) ? 'icon-svg filled' : 'icon-svg');
  for (const d of PATHS[name]) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}
