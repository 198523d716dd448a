import type { Context } from 'koa';

// What the provider needs from the domains above it, as interfaces it owns. oidc/ sits below
// accounts/, workspaces/ and admin/ (it imports only the ground floor and clients, keys, audit), so
// it cannot import them; they implement these ports (accounts/account.oidc-port.ts,
// workspaces/workspace.oidc-port.ts, admin/impersonation.ts, accounts/account-session.repo.ts) and
// the composition root (src/root.ts) wires them in.

/** An account as the provider sees it: who, which roles, and the claims it releases. */
export interface OidcAccount {
  id: string;
  email: string;
  roles: string[];
  disabled: boolean;
  /** the account's standard claims (sub, email, profile, roles), before the scope filter */
  claims(): Record<string, unknown>;
}

export interface AccountsPort {
  /** an active (not disabled) account; from the node's account cache on the token hot path */
  findActive(id: string): Promise<OidcAccount | undefined>;
  /** an account, disabled or not (the device page tells a disabled account apart) */
  findById(id: string): Promise<OidcAccount | undefined>;
}

/** One account's workspace claims, resolved at most once per account lookup. */
export interface AccountWorkspace {
  /** the claims for a granted scope string (empty without `workspace`/`workspaces`) */
  claims(scope: string): Promise<Record<string, unknown>>;
  /** the active workspace's flat claims, the stored choice settled (for access tokens) */
  tokenClaims(): Promise<Record<string, unknown>>;
}

export interface WorkspaceOrigin { actorId: string; clientId: string | null; ip: string | null; userAgent: string | null }

export interface WorkspacesPort {
  /** the syntax of a `workspace` parameter: a workspace id or slug */
  isWorkspaceRef(value: string): boolean;
  /** makes `ref` the account's active workspace; an AppError below 500 when it is not one of its workspaces */
  chooseActive(accountId: string, ref: string, origin: WorkspaceOrigin): Promise<void>;
  /** whether the account must pick a workspace (several, none active) */
  needsChoice(accountId: string): Promise<boolean>;
  forAccount(accountId: string): AccountWorkspace;
}

/** The answer of the token-exchange grant: the token an admin's impersonation mints. */
export interface MintedToken { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string }

/** Impersonation, as the token-exchange grant (src/oidc/grants/token-exchange.ts) uses it. */
export interface ImpersonationPort {
  /** an AppError 400 for bad input, another AppError for a refused target */
  mint(input: {
    adminId: string; targetId: string; clientId: string; reason: unknown;
    origin: { ip: string | null; userAgent: string | null };
  }): Promise<MintedToken>;
}

/** A provider session as the sessions page records it (src/oidc/session-tracking.ts). */
export interface TrackedSession { uid: string; accountId: string; ip: string | null; userAgent: string | null; amr: string[]; at: Date }

/** Where the session-tracking listener records sessions (accounts/account-session.repo.ts implements it). */
export interface SessionLog {
  /** a session was saved (created, or seen again) */
  saved(session: TrackedSession): Promise<void>;
  /** a session was destroyed (signed out, expired by the provider) */
  ended(uid: string): Promise<void>;
}

/**
 * Signing out upstream too (federation/upstream-logout.ts implements it): after Gatehouse signed a
 * browser out and is sending it to `next`, the upstream sign-out URL to visit first, if any.
 */
export interface UpstreamLogoutPort {
  after(ctx: Context, next: string): Promise<string | undefined>;
}
