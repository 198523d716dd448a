// The workspace picker: one prompt (workspace), one job (store the chosen workspace as the user's
// active one), then finish. Shown when the app asks for the `workspace` scope and the user has
// several workspaces and none active (src/oidc/workspace-prompt.ts decides).
import type { Context } from 'koa';
import { z } from 'zod';
import { parseOr400 } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import { requestOrigin } from '../audit/audit.ts';
import { appView, finish, loadInteraction, PROMPTS, STALE_STEP, translatorFor, type Details, type InteractionHandlerDeps } from './interaction-deps.ts';

const pickBody = z.object({ workspace_id: z.string().max(100).default('') });

export function createWorkspacePicker(deps: InteractionHandlerDeps) {
  async function show(ctx: Context, details: Details, error?: string, status = 200) {
    const accountId = details.session?.accountId;
    if (!accountId) throw new AppError(400, 'interaction_state', STALE_STEP);
    const [workspaces, account] = await Promise.all([deps.workspaces.listMine(accountId), deps.accounts.findById(accountId)]);
    const app = await appView(deps, ctx, details);
    deps.page(ctx, 'workspace-picker', {
      title: translatorFor(deps, ctx)('signin:workspace.title'),
      app,
      clientName: app.clientName,
      accountEmail: account?.email,
      workspaces,
      error,
      action: `/interaction/${details.uid}/workspace`,
      abortUrl: `/interaction/${details.uid}/abort`,
    }, status);
  }

  return {
    show,

    async submit(ctx: Context) {
      const details = await loadInteraction(deps, ctx, PROMPTS.workspace);
      const accountId = details.session?.accountId;
      if (!accountId) throw new AppError(400, 'interaction_state', STALE_STEP);
      const { workspace_id: ref } = parseOr400(pickBody, ctx.request.body ?? {});
      let chosen;
      try {
        chosen = await deps.workspaces.setActive(accountId, ref, {
          actorId: accountId, clientId: typeof details.params.client_id === 'string' ? details.params.client_id : null, ...requestOrigin(ctx),
        });
      } catch (e) {
        if (e instanceof AppError && e.status < 500) return show(ctx, details, translatorFor(deps, ctx)('signin:workspace.chooseOne'), e.status);
        throw e;
      }
      await finish(deps, ctx, { workspace: { id: chosen.id } }, true);
    },
  };
}
