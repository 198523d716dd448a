// The language of the request that caused a mail, for mail to someone whose own language is not
// known (a sign-up code, an invitation to an address without an account). The app's first
// middleware opens a scope per request (withRequestLanguage); the mailer asks inside it, also in
// work handed to Mailer.later, since an AsyncLocalStorage scope follows promises and timers.
import { AsyncLocalStorage } from 'node:async_hooks';

/** Asked lazily: the page's language is known only once the request has been read (ui_locales). */
type LanguageOfRequest = () => string | undefined;

const scope = new AsyncLocalStorage<LanguageOfRequest>();

export function withRequestLanguage<T>(language: LanguageOfRequest, fn: () => T): T {
  return scope.run(language, fn);
}

/** The current request's language, if a mail is being sent on behalf of one. */
export function requestLanguage(): string | undefined {
  try { return scope.getStore()?.(); } catch { return undefined; }
}
