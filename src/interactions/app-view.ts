// The app a sign-in is for, as the hosted pages show it: its name, its logo next to "to continue to
// <app>", links to its privacy policy and terms, and its sign-up policy. The logo and links come
// from the client's registered metadata (logo_uri, policy_uri, tos_uri; OIDC Dynamic Client
// Registration §2) and are used only when https: a page of the identity provider never loads or
// links an app's asset over plain http (the CSP allows https images only).
import type { SignupPolicy } from '../config/index.ts';

export interface AppView {
  clientName: string;
  logoUri?: string;
  policyUri?: string;
  tosUri?: string;
  /** the app's signup_policy, else GATEHOUSE_SIGNUP */
  signupPolicy: SignupPolicy;
}

/** An absolute https URL, else undefined. */
export function httpsUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.username && !url.password ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function appLinks(metadata: Record<string, unknown>): Pick<AppView, 'logoUri' | 'policyUri' | 'tosUri'> {
  return { logoUri: httpsUrl(metadata.logo_uri), policyUri: httpsUrl(metadata.policy_uri), tosUri: httpsUrl(metadata.tos_uri) };
}
