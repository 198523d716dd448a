// The workspace step of an authorization request: one prompt, right after login, so it runs as
// soon as the user is known (after signing in, or at once for a signed-in user, prompt=none too).
//   workspace_param   `workspace=<id or slug>` must be one of the user's workspaces, else the app
//                     gets access_denied with a description; a good one becomes the active workspace.
//   workspace_choice  scope `workspace`, several workspaces and none active: the picker page.
// The parameter's syntax is checked earlier, with the request (invalid_request).
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { asProviderError } from './provider-errors.ts';
import type { WorkspacesPort } from './ports.ts';
import { requestedScopes } from './internals.ts';

export const WORKSPACE_PROMPT = 'workspace';
export const WORKSPACE_PARAM = 'workspace';

const { Check, Prompt } = interactionPolicy;

/** extraParams validator: a present `workspace` must look like an id or a slug. */
export function checkWorkspaceParam(workspaces: Pick<WorkspacesPort, 'isWorkspaceRef'>) {
  return (_ctx: KoaContextWithOIDC, value: string | undefined): void => {
    if (value !== undefined && value !== '' && !workspaces.isWorkspaceRef(value)) {
      throw new errors.InvalidRequest('workspace must be a workspace id or slug');
    }
  };
}

function paramOf(ctx: KoaContextWithOIDC): string | undefined {
  const value = ctx.oidc.params?.[WORKSPACE_PARAM];
  return typeof value === 'string' && value ? value : undefined;
}

function workspaceParamCheck(workspaces: WorkspacesPort) {
  return new Check('workspace_param', 'the requested workspace is not one of the user\'s workspaces', 'access_denied', async (ctx) => {
    const accountId = ctx.oidc.session?.accountId;
    const ref = paramOf(ctx);
    if (!accountId || !ref) return Check.NO_NEED_TO_PROMPT;
    try {
      await workspaces.chooseActive(accountId, ref, {
        actorId: accountId, clientId: ctx.oidc.client?.clientId ?? null, ip: ctx.ip || null, userAgent: ctx.get('user-agent').slice(0, 512) || null,
      });
    } catch (e) {
      throw asProviderError(e, 'authorization', `the user is not a member of the workspace "${ref}"`);
    }
    return Check.NO_NEED_TO_PROMPT;
  });
}

function workspaceChoiceCheck(workspaces: WorkspacesPort) {
  return new Check('workspace_choice', 'the user has several workspaces and must choose one', 'interaction_required', async (ctx) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId || paramOf(ctx) || !requestedScopes(ctx).has('workspace')) return Check.NO_NEED_TO_PROMPT;
    if ((ctx.oidc.result as { workspace?: unknown } | undefined)?.workspace) return Check.NO_NEED_TO_PROMPT; // chosen just now
    return (await workspaces.needsChoice(accountId)) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  });
}

/** Adds the workspace prompt to a policy, after login (and before consent). */
export function withWorkspacePrompt<P extends interactionPolicy.DefaultPolicy>(policy: P, workspaces: WorkspacesPort): P {
  const after = policy.findIndex((p) => p.name === 'login');
  policy.add(new Prompt({ name: WORKSPACE_PROMPT, requestable: false }, workspaceParamCheck(workspaces), workspaceChoiceCheck(workspaces)), after + 1);
  return policy;
}
