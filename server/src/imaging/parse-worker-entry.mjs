// A worker thread starts without the hub's TypeScript loader (tsx): register it, then load the
// worker itself (as bin/suhe.js does for the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
