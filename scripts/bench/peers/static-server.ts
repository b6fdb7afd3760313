// A read-only HTTP server on 127.0.0.1 for bench:peers: URL prefixes mapped onto folders (the built
// page at "/", the model folders under their own prefixes). GET and HEAD, no ranges, no listing.
// COOP/COEP as `vite preview` sends them for the app (they only unlock threaded WASM for ORT).
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
};

export interface StaticServer { url: string; close(): Promise<void> }

/** `mounts`: URL prefix ("/", "/ours/") -> folder; the longest matching prefix wins. */
export async function startStaticServer(mounts: Record<string, string>, port = 0): Promise<StaticServer> {
  const table = Object.entries(mounts).map(([p, d]) => [p, resolve(d)] as const).sort((a, b) => b[0].length - a[0].length);
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const mount = table.find(([p]) => path.startsWith(p));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !mount) { res.writeHead(mount ? 405 : 404).end(); return; }
    const [prefix, root] = mount;
    let file = resolve(root, '.' + sep + path.slice(prefix.length));
    if (file !== root && !file.startsWith(root + sep)) { res.writeHead(403).end(); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': String(size), 'Cache-Control': 'no-store',
        'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(port, '127.0.0.1', ok); });
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
