// An API that accepts Gatehouse access tokens: GET /me answers who is calling, provisioning the
// API's own user on first sight. Run it:
//
//   GATEHOUSE_ISSUER=http://localhost:3000 API_AUDIENCE=https://api.example.com PORT=4000 node server.ts
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createVerifier, localUserFor, type LocalUser, type UserStore } from './auth.ts';

/** A store in memory; a real API keeps its users in its database, with a unique index on sub. */
export function memoryUsers(): UserStore {
  const bySub = new Map<string, LocalUser>();
  return {
    findBySub: async (sub) => bySub.get(sub),
    insert: async (u) => { const user = { id: randomUUID(), ...u }; bySub.set(u.sub, user); return user; },
    update: async (u) => { bySub.set(u.sub, u); },
  };
}

export function createApi(opts: { issuer: string; audience: string; users?: UserStore }): Server {
  const verify = createVerifier(opts);
  const users = opts.users ?? memoryUsers();
  return createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.url !== '/me' || req.method !== 'GET') return send(404, { error: 'not_found' });
    const bearer = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization ?? '');
    let token;
    try {
      if (!bearer) throw new Error('no bearer token');
      token = await verify(bearer[1]!);
    } catch {
      return send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const { user, created } = await localUserFor(token, users);
    send(200, { user, created, email: token.email ?? null, name: token.name ?? null, roles: token.roles ?? [], workspace: token.workspace_slug ?? null });
  });
}

if (import.meta.main) {
  const { GATEHOUSE_ISSUER, API_AUDIENCE, PORT = '4000' } = process.env;
  if (!GATEHOUSE_ISSUER || !API_AUDIENCE) throw new Error('set GATEHOUSE_ISSUER and API_AUDIENCE');
  createApi({ issuer: GATEHOUSE_ISSUER, audience: API_AUDIENCE }).listen(Number(PORT));
}
