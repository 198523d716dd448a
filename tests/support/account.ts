// Drives the hosted account pages over HTTP with the cookie-jar agent.
import { generate } from 'otplib';
import { Agent, formAction, type Page } from '../../harness/http-agent.ts';

/** Opens an account page, signing in on the way (password, then a TOTP secret if asked). */
export async function openAccount(issuer: string, path: string, who: { email: string; password: string; totpSecret?: string }, agent = new Agent()): Promise<{ agent: Agent; page: Page }> {
  let page = await agent.go(`${issuer}${path}`);
  if (page.html.includes('autocomplete="current-password"') && page.url.includes('/interaction/')) {
    page = await agent.submit(page, formAction(page.html, '/login'), { email: who.email, password: who.password });
  }
  if (page.url.endsWith('/mfa') && who.totpSecret) {
    page = await agent.submit(page, formAction(page.html, '/mfa'), { method: 'totp', code: await freshTotp(who.totpSecret) });
  }
  return { agent, page };
}

export function secretOn(html: string): string {
  // the account page shows it in groups of four ("JBSW Y3DP …")
  const m = /class="secret">([A-Z2-7][A-Z2-7 ]*)</.exec(html);
  if (!m) throw new Error(`no TOTP secret on the page:\n${html.slice(0, 1500)}`);
  return m[1]!.replace(/ /g, '');
}

/**
 * A TOTP code for the next time step: codes are accepted once, and one step of clock drift is
 * tolerated, so the next step's code is valid now and newer than the one enrolment used.
 */
export async function freshTotp(secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
}
