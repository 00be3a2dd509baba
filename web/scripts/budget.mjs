// Budget: the gzipped JavaScript of the first load (every script index.html loads or preloads) under 150 KB.
// Run after `npm run build`; infra/web-test.sh runs it in `make test`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const LIMIT_BYTES = Number(process.env.WEB_JS_BUDGET_BYTES ?? 150 * 1024);
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map((m) => m[1]);
if (scripts.length === 0) throw new Error('index.html loads no script: is dist/ a build of web/?');
let total = 0;
for (const src of new Set(scripts)) {
  const bytes = gzipSync(readFileSync(join(dist, src.replace(/^\.?\//, '')))).length;
  total += bytes;
  console.log(`${src}: ${(bytes / 1024).toFixed(1)} KB gzipped`);
}
const verdict = total <= LIMIT_BYTES ? 'within' : 'OVER';
console.log(`first-load JS: ${(total / 1024).toFixed(1)} KB gzipped, ${verdict} the ${(LIMIT_BYTES / 1024).toFixed(0)} KB budget`);
if (total > LIMIT_BYTES) process.exit(1);
