// The hosted pages' stylesheet (and any other file in views/assets), served with an ETag.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context, Next } from 'koa';
import { brandCss, type Brand } from '../render/brand.ts';

const ASSETS_DIR = fileURLToPath(new URL('../../views/assets/', import.meta.url));
const require = createRequire(import.meta.url);
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon' };

/** Files under /assets/, plus /assets/brand.css made from the deployer's brand. */
export function assets(brand?: Brand) {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const body = readFileSync(ASSETS_DIR + name);
    const type = TYPES[name.split('.').pop()!] ?? 'application/octet-stream';
    files.set(`/assets/${name}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  // third-party browser code we serve ourselves (CSP: script-src 'self')
  const webauthnRoot = join(dirname(require.resolve('@simplewebauthn/browser')), '..');
  const vendor = { '/assets/vendor/simplewebauthn-browser.js': join(webauthnRoot, 'dist/bundle/index.umd.min.js') };
  for (const [path, file] of Object.entries(vendor)) {
    const body = readFileSync(file);
    files.set(path, { body, type: 'text/javascript; charset=utf-8', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  if (brand) {
    const body = Buffer.from(brandCss(brand));
    files.set('/assets/brand.css', { body, type: TYPES.css, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return async (ctx: Context, next: Next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', file.etag);
    if (ctx.get('if-none-match') === file.etag) { ctx.status = 304; return; }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
