// Input validation at the edge: no request gets past it with a control character in its path, its
// query or (see src/http/body.ts and src/oidc/provider-input-guard.ts) its parsed body, so no handler, no
// provider hook and no query ever sees one. Postgres refuses a NUL byte outright (a 500 from deep
// inside a query), and no field Gatehouse accepts has a use for the others.
//
// Allowed: tab, line feed and carriage return. A textarea (the impersonation reason) sends CRLF,
// and JSON text (the `claims` parameter) may hold whitespace; fields that must be one line say so
// in their own schema.
import type { Context, Next } from 'koa';
import type { Views } from '../render/views.ts';
import { renderErrorPage } from './error-page.ts';

/** C0 controls but tab, LF and CR; DEL; the C1 controls. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** The same, percent-encoded in a raw path (the HTTP parser already refuses them unencoded). */
const ENCODED_CONTROL = /%(?:[01][0-9A-F]|7F)/i;
/** Nesting deeper than this is refused: no body we accept is nested more than a few levels. */
const MAX_DEPTH = 32;

const MESSAGE = 'The request holds a control character (such as a NUL byte), which no field accepts. Remove it and try again.';

/**
 * Where in `value` (a string, or a parsed query or body: arrays and plain objects, keys included)
 * a control character sits, as a field path; undefined when there is none.
 */
export function controlCharacterIn(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value) ? path || '(value)' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return path || '(value)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = controlCharacterIn(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (CONTROL_CHARACTER.test(key)) return path ? `${path}.(key)` : '(key)';
    const found = controlCharacterIn(item, path ? `${path}.${key}` : key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The problem with a request's path or query, as a sentence naming the field; else undefined. */
export function pathOrQueryProblem(ctx: Context): string | undefined {
  if (ENCODED_CONTROL.test(ctx.path)) return `${MESSAGE} (in the path)`;
  if (!ctx.querystring) return undefined;
  const where = controlCharacterIn(ctx.query);
  return where === undefined ? undefined : `${MESSAGE} (in "${where}")`;
}

/** The sentence for a body whose field `where` holds a control character. */
export function bodyProblem(where: string): string {
  return `${MESSAGE} (in "${where}")`;
}

/**
 * A 400 in the shape the caller expects: the API's `{error, message}` under /api/, a page for a
 * browser, else an OAuth error (`{error, error_description}`, RFC 6749 §5.2) as the protocol
 * endpoints answer.
 */
export function answerInvalidInput(ctx: Context, views: Views, message: string): void {
  ctx.status = 400;
  if (ctx.path.startsWith('/api/')) {
    ctx.body = { error: 'invalid_request', message };
  } else if (ctx.accepts('json', 'html') === 'html') {
    renderErrorPage(views, ctx, 400, (t) => ({
      heading: t('errors:heading.client'), message: t('errors:message.unreadable'),
      error: 'invalid_request', errorDescription: message,
    }));
  } else {
    ctx.body = { error: 'invalid_request', error_description: message };
  }
}

/** The edge of our Koa app: paths and queries (bodies are checked where they are parsed). */
export function inputGuard(views: Views) {
  return async (ctx: Context, next: Next) => {
    const problem = pathOrQueryProblem(ctx);
    if (problem) { answerInvalidInput(ctx, views, problem); return; }
    await next();
  };
}
