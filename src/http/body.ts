// Body parsing for our own routes: small limits, the right content type or a 4xx. (The provider
// parses its own endpoints.)
import { koaBody } from 'koa-body';
import type { Context, Next } from 'koa';
import { AppError } from './errors.ts';

const FORM_LIMIT = '32kb'; // the largest hosted form is a few hundred bytes
const JSON_LIMIT = '64kb';

function wrap(parser: ReturnType<typeof koaBody>, want: string) {
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
    await next();
  };
}

export const formBody = () => wrap(koaBody({ multipart: false, json: false, text: false, urlencoded: true, formLimit: FORM_LIMIT }), 'application/x-www-form-urlencoded');
export const jsonBody = () => wrap(koaBody({ multipart: false, urlencoded: false, text: false, json: true, jsonLimit: JSON_LIMIT, jsonStrict: true }), 'application/json');
