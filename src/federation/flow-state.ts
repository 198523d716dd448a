// What a trip upstream remembers, and how it is bound to the browser that started it. The query
// of the callback is never trusted alone: the record is found by `state`, and it names a binding
// that only the starting browser holds (a random value in a signed, httpOnly, SameSite=Lax cookie:
// sent on the upstream's top-level redirect back, never on a cross-site subrequest). Records are
// single-use and short-lived; a sign-in left upstream longer simply starts again.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { UpstreamProfile } from './upstream-client.ts';

/** Long enough to pick an account and pass a second factor upstream; short enough not to linger. */
export const FLOW_TTL_SECONDS = 10 * 60;
const BINDING_COOKIE = 'gh_upstream';

export interface StartedFlow {
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  /** hash of the browser's binding value */
  binding: string;
  /** sign-in for an authorization request (its interaction), or linking from /account */
  mode: 'signin' | 'link';
  uid?: string;
  userId?: string;
  /** where "try another way" goes when the interaction is gone */
  returnTo?: string;
}

/** The upstream's answer, waiting for the interaction's own page (its cookie is path-scoped there). */
export interface ReturnedFlow { provider: string; binding: string; profile: UpstreamProfile }

const hash = (v: string) => createHash('sha256').update(v).digest('base64url');

export function createFlowState(deps: { adapters: AdapterFactory; secure: boolean }) {
  const started = deps.adapters('UpstreamFlow');
  const returned = deps.adapters('UpstreamReturn');

  /** The browser's binding value: kept while it lives, so two tabs may each go upstream. */
  function bindingOf(ctx: Context, create: boolean): string | undefined {
    const existing = ctx.cookies.get(BINDING_COOKIE, { signed: true });
    if (existing || !create) return existing ?? undefined;
    const value = randomBytes(32).toString('base64url');
    ctx.cookies.set(BINDING_COOKIE, value, {
      httpOnly: true, sameSite: 'lax', secure: deps.secure, signed: true, path: '/', maxAge: FLOW_TTL_SECONDS * 1000, overwrite: true,
    });
    return value;
  }

  const sameBinding = (ctx: Context, expected: string) => {
    const mine = bindingOf(ctx, false);
    if (!mine) return false;
    const a = Buffer.from(hash(mine)); const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  return {
    async begin(ctx: Context, flow: Omit<StartedFlow, 'binding'>): Promise<void> {
      const binding = hash(bindingOf(ctx, true)!);
      await started.upsert(flow.state, { ...flow, binding }, FLOW_TTL_SECONDS);
    },

    /** The record of this callback's state, once: undefined when unknown, expired, used or another browser's. */
    async take(ctx: Context, state: string): Promise<{ flow?: StartedFlow; foreign: boolean }> {
      if (!state || state.length > 200) return { foreign: false };
      const flow = await started.find(state) as StartedFlow | undefined;
      if (!flow) return { foreign: false };
      if (!sameBinding(ctx, flow.binding)) return { flow, foreign: true }; // kept: the right browser may still come
      await started.destroy(state);
      return { flow, foreign: false };
    },

    async hold(uid: string, value: ReturnedFlow): Promise<void> {
      await returned.upsert(uid, value as never, FLOW_TTL_SECONDS);
    },

    /** The upstream's answer for this interaction, if this browser brought it. Single use. */
    async claim(ctx: Context, uid: string): Promise<ReturnedFlow | undefined> {
      const value = await returned.find(uid) as ReturnedFlow | undefined;
      if (!value || !sameBinding(ctx, value.binding)) return undefined;
      await returned.destroy(uid);
      return value;
    },

    bindingHash: (ctx: Context) => hash(bindingOf(ctx, true)!),
  };
}
export type FlowState = ReturnType<typeof createFlowState>;
