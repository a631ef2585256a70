// The browser tests need viewer/dist: build it once when a source is newer than the build (a
// second or two with esbuild), so the tests always drive the viewer as the sources are now.
import { ensureViewerBuilt } from '../../scripts/build-viewer.js';

let built: Promise<unknown> | undefined;

export function viewerBuilt(): Promise<unknown> {
  built ??= ensureViewerBuilt();
  return built;
}
