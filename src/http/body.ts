// Body parsing for our own routes: small limits, the right content type, no control character
// (src/http/input-guard.ts), and for a hosted form one text value per field — or a 4xx. (The
// provider parses its own endpoints: src/oidc/provider-input-guard.ts.)
import { koaBody } from 'koa-body';
import type { Context, Next } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { bodyProblem, controlCharacterIn } from './input-guard.ts';

const FORM_LIMIT = '32kb'; // the largest hosted form is a few hundred bytes
const JSON_LIMIT = '64kb';

/**
 * No hosted form has a field that repeats or nests, so `name=a&name=b`, `name[]=x` and `a[b]=c`
 * (which the parser turns into arrays and objects) are refused here, once for every form: each
 * handler's schema then sees text.
 */
function flatFormProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const field = Object.entries(body).find(([, v]) => typeof v !== 'string')?.[0];
  return field === undefined ? undefined : `The field "${field}" was sent more than once or in pieces. Send each field once.`;
}

function wrap(parser: ReturnType<typeof koaBody>, want: string, shape?: (body: unknown) => string | undefined) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.request.length && !ctx.is(want)) {
      throw new AppError(415, 'unsupported_media_type', `Send the body as ${want}.`);
    }
    try {
      await parser(ctx, async () => {});
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 413) throw new AppError(413, 'payload_too_large', 'The request body is too large.');
      throw new AppError(400, 'invalid_body', 'The request body could not be read.');
    }
    const body = (ctx.request as { body?: unknown }).body;
    const where = controlCharacterIn(body);
    if (where !== undefined) throw new AppError(400, 'invalid_request', bodyProblem(where));
    const problem = shape?.(body);
    if (problem) throw new AppError(400, 'invalid_request', problem);
    await next();
  };
}

export const formBody = () => wrap(koaBody({ multipart: false, json: false, text: false, urlencoded: true, formLimit: FORM_LIMIT }), 'application/x-www-form-urlencoded', flatFormProblem);
export const jsonBody = () => wrap(koaBody({ multipart: false, urlencoded: false, text: false, json: true, jsonLimit: JSON_LIMIT, jsonStrict: true }), 'application/json');
