// Shared pieces of the reliability campaign: counts (small / full), figures each spec prints and
// records, hooks that count script execution (alert/confirm/prompt, dialogs, injected elements,
// page errors), persistent Chromium profiles that can be killed, and IndexedDB reads.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { BASE_ARGS, CHROMIUM_PATH } from '../../playwright.config.ts';

export const FULL = process.env.RB_RELIABILITY === 'full';
/** small -> full counts. */
export const count = (small: number, full: number) => (FULL ? full : small);
export const BASE_URL = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 4174)}/`;

/** Prints one figures line and records it for the summary (scripts/reliability.mjs). */
export function report(name: string, figures: Record<string, number | string>): void {
  console.log(`reliability ${name}: ${Object.entries(figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (process.env.RB_FIGURES) appendFileSync(process.env.RB_FIGURES, `${JSON.stringify({ name, figures })}\n`);
}

export interface Hooks { alerts: number; injected: number; pageErrors: string[]; dialogs: number }

/** Counts script execution: alert/confirm/prompt calls, injected script/iframe/object/embed/on*-handler
 *  elements or javascript: links (MutationObserver), dialogs and page errors. */
export async function installHooks(ctxOrPage: BrowserContext | Page): Promise<void> {
  await ctxOrPage.addInitScript(() => {
    const w = window as unknown as { __rb: { alerts: number; injected: string[] } };
    w.__rb = { alerts: 0, injected: [] };
    for (const f of ['alert', 'prompt', 'print'] as const) {
      (window as unknown as Record<string, unknown>)[f] = () => { w.__rb.alerts++; };
    }
    const bad = (el: Element) => {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'meta'].includes(tag) && !el.hasAttribute('data-rb-app')) return `<${tag}>`;
      for (const a of Array.from(el.attributes)) {
        if (/^on/i.test(a.name)) return `${tag}[${a.name}]`;
        if ((a.name === 'href' || a.name === 'src' || a.name === 'xlink:href') && /^\s*javascript:/i.test(a.value)) return `${tag}[${a.name}=javascript:]`;
      }
      return null;
    };
    const scan = (n: Node) => {
      if (!(n instanceof Element)) return;
      const b = bad(n);
      if (b) w.__rb.injected.push(b);
      for (const c of Array.from(n.querySelectorAll('*'))) { const bb = bad(c); if (bb) w.__rb.injected.push(bb); }
    };
    // From DOMContentLoaded on: index.html's own <meta>/<script> are parsed before it.
    document.addEventListener('DOMContentLoaded', () => {
      new MutationObserver((ms) => { for (const m of ms) { m.addedNodes.forEach(scan); if (m.type === 'attributes' && m.target instanceof Element) { const b = bad(m.target); if (b) w.__rb.injected.push(b); } } })
        .observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['onerror', 'onload', 'onclick', 'onmouseover', 'href', 'src', 'onfocus'] });
    });
  });
}

export function watchPage(page: Page, h: Hooks): void {
  page.on('pageerror', (e) => h.pageErrors.push(e.message.slice(0, 200)));
  page.on('dialog', (d) => { h.dialogs++; void d.dismiss().catch(() => {}); });
}

export async function readHooks(page: Page, h: Hooks): Promise<void> {
  const r = await page.evaluate(() => (window as unknown as { __rb?: { alerts: number; injected: string[] } }).__rb ?? { alerts: 0, injected: [] }).catch(() => ({ alerts: 0, injected: [] as string[] }));
  h.alerts += r.alerts;
  h.injected += r.injected.length;
  if (r.injected.length) console.log('injected:', r.injected.slice(0, 5));
}

export const newHooks = (): Hooks => ({ alerts: 0, injected: 0, pageErrors: [], dialogs: 0 });

/** A persistent Chromium profile in `dir` (so IndexedDB outlives a closed context or a killed process). */
export function launchProfile(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH, args: [...BASE_ARGS, '--enable-unsafe-webgpu'], baseURL: BASE_URL,
  });
}

/** The pid of the browser process that owns `dir` (its command line names the profile; no --type=). */
export function browserPid(dir: string): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { continue; }
    const argv = cmd.split('\0');
    if (argv.some((a) => a === `--user-data-dir=${dir}`) && !argv.some((a) => a.startsWith('--type='))) return Number(p);
  }
  return undefined;
}

/** Every store of the app's database, read in the page. */
export async function idbCounts(page: Page, poolId?: string): Promise<{ pools: { id: string; name: string; status: string; traces: number }[]; traces: number; poolTraces?: { seq: number; line: number; problem: string }[] }> {
  return page.evaluate(async (pid) => {
    while (!(await indexedDB.databases()).some((d) => d.name === 'reasonbridge')) await new Promise((r) => setTimeout(r, 50));
    const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('reasonbridge'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const req = <T>(q: IDBRequest<T>) => new Promise<T>((res, rej) => { q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
    const tx = db.transaction(['pools', 'traces']);
    const pools = (await req(tx.objectStore('pools').getAll())) as { id: string; name: string; status: string; counts: { traces: number } }[];
    const out: { id: string; name: string; status: string; traces: number }[] = [];
    for (const p of pools) out.push({ id: p.id, name: p.name, status: p.status, traces: await req(tx.objectStore('traces').count(IDBKeyRange.bound(`${p.id}:`, `${p.id};`, false, true))) });
    const traces = await req(tx.objectStore('traces').count());
    let poolTraces: { seq: number; line: number; problem: string }[] | undefined;
    if (pid) {
      const all = (await req(tx.objectStore('traces').getAll(IDBKeyRange.bound(`${pid}:`, `${pid};`, false, true)))) as { seq: number; problem: string; meta: { line: number } }[];
      poolTraces = all.map((t) => ({ seq: t.seq, line: t.meta.line, problem: t.problem })).sort((a, b) => a.seq - b.seq);
    }
    db.close();
    return { pools: out, traces, poolTraces };
  }, poolId);
}
