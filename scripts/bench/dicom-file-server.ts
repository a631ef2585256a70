// The imaging benchmark's loopback HTTP limit, run as a child process (fork) like the hub: a
// trivial node:http server that does what an archive's HTTP side cannot avoid and nothing more.
//   GET /series   sends the given files one after another as one body, from memory (read once at
//                 start), so only HTTP over loopback is measured
//   POST /<any>   reads the request body and drops it, answers {}
// Started with the list of files in a JSON file; reports {ready, url} over IPC; stops on {close}.
//   node --import tsx scripts/bench/dicom-file-server.ts <files.json>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

const files = (JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as string[]).map((f) => readFileSync(f));
const total = files.reduce((n, f) => n + f.length, 0);

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/series') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
    void (async () => {
      for (const file of files) if (!res.write(file)) await once(res, 'drain');
      res.end();
    })().catch(() => res.destroy());
    return;
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}` });
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('message', (m: { type?: string }) => m?.type === 'close' && stop());
process.on('disconnect', stop);
process.on('SIGINT', () => undefined); // the parent decides when to stop
