// Validation at the edge (the shape of Logto's koa-guard): a route declares zod schemas for what it
// reads, and the handler receives typed data; a request that does not fit is a 400 that names the
// first problem (JSON on APIs, a page on hosted forms: the one error handler decides). Hosted forms
// and JSON APIs alike go through here; nothing below a route reads raw strings.
import type { Context, Next } from 'koa';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.ts';

export interface GuardSchemas<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  body?: B;
  query?: Q;
  params?: P;
}

/** The first problem of a failed parse, as one sentence a person or a developer can act on. */
export function firstProblem(error: z.ZodError, where = 'body'): string {
  const issue = error.issues[0];
  if (!issue) return `The ${where} is not valid.`;
  if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.join(', ')}`;
  const path = issue.path.join('.');
  // a message that already names its field ("name is required", "slug: …") is not prefixed again
  return path && !issue.message.startsWith(String(issue.path[0])) ? `${path}: ${issue.message}` : issue.message;
}

/** Parses `value` with `schema`, or throws a 400 `invalid_request` naming the first problem. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where = 'body', code = 'invalid_request'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError(400, code, firstProblem(parsed.error, where));
  return parsed.data;
}

export interface Guarded<B, Q, P> { body: B; query: Q; params: P }

/**
 * Middleware: parses ctx.request.body, ctx.query and ctx.params with the given schemas and puts the
 * typed result on ctx.state.guarded (read it with `guarded(ctx)`).
 */
export function guard<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(schemas: GuardSchemas<B, Q, P>) {
  return async (ctx: Context, next: Next) => {
    ctx.state.guarded = {
      body: schemas.body ? parseOr400(schemas.body, ctx.request.body ?? {}, 'body') : undefined,
      query: schemas.query ? parseOr400(schemas.query, ctx.query, 'query') : undefined,
      params: schemas.params ? parseOr400(schemas.params, ctx.params ?? {}, 'path') : undefined,
    };
    await next();
  };
}

/** What `guard` parsed for this request, typed by the schemas given to it. */
export function guarded<B extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, P extends z.ZodType = z.ZodNever>(
  ctx: Context, _schemas?: GuardSchemas<B, Q, P>,
): Guarded<z.output<B>, z.output<Q>, z.output<P>> {
  return ctx.state.guarded as Guarded<z.output<B>, z.output<Q>, z.output<P>>;
}
