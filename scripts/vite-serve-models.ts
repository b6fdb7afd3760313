// Vite plugin: the bundled models live once in git under models/ (models/tiny: config, tokenizer,
// safetensors). The dev server serves them at /models/...; a build copies them into the output
// (dist/models/...), so the app loads the tiny model from its own origin, offline.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'vite';

const SERVED = /\.(json|safetensors)$/;

function modelFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SERVED.test(name)) out.push(p);
    }
  };
  try {
    walk(root);
  } catch {
    // no models/ folder: nothing to serve
  }
  return out;
}

export function serveModels(dir = 'models'): Plugin {
  const root = resolve(dir);
  return {
    name: 'rb-serve-models',
    configureServer(server) {
      server.middlewares.use('/models', (req, res, next) => {
        const path = resolve(root, '.' + decodeURIComponent((req.url ?? '/').split('?')[0]));
        if (!path.startsWith(root + sep) || !SERVED.test(path)) return next();
        let body: Buffer;
        try {
          body = readFileSync(path);
        } catch {
          return next();
        }
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.setHeader('Content-Length', String(body.byteLength));
        res.end(body);
      });
    },
    generateBundle() {
      for (const p of modelFiles(root)) {
        this.emitFile({ type: 'asset', fileName: `models/${relative(root, p).split(sep).join('/')}`, source: readFileSync(p) });
      }
    },
  };
}
