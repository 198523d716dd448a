// gatehouse token: prints a valid access token, refreshing it first when it has expired, so
// `curl -H "Authorization: Bearer $(gatehouse token)"` always works.
import { freshSession } from './session.ts';

export async function token(o: { profile: string }): Promise<void> {
  const session = await freshSession(o.profile);
  process.stdout.write(`${session.credentials.access_token}\n`);
}
