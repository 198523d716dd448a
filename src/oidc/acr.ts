// Whether an authorization request needs a second factor by what it asks for (OIDC Core §3.1.2.1,
// §5.5.1.1). acr_values is a list of acceptable values in order of preference: `pwd mfa` is
// satisfied by a password alone, so only a list in which every value needs a second factor steps
// up. An essential `acr` claim (claims parameter) is a requirement: it steps up when every value it
// accepts needs a second factor.
import { ACR_VALUES } from './claims.ts';

/** The acr values a second factor is needed for. */
const SECOND_FACTOR_ACRS = new Set<string>(['mfa']);
const KNOWN_ACRS = new Set<string>(ACR_VALUES);

interface AcrParams { acr_values?: unknown; claims?: unknown }
interface ClaimRequest { essential?: boolean; value?: unknown; values?: unknown }

const needsSecondFactor = (values: string[]) => values.length > 0 && values.every((v) => SECOND_FACTOR_ACRS.has(v));

/** The values an essential acr claim accepts (id_token or userinfo), if any. */
function essentialAcr(claims: unknown): string[] | undefined {
  let parsed: unknown = claims;
  if (typeof claims === 'string') {
    try { parsed = JSON.parse(claims); } catch { return undefined; } // the library refuses it
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const out: string[] = [];
  for (const where of ['id_token', 'userinfo'] as const) {
    const acr = (parsed as Record<string, Record<string, ClaimRequest | null> | undefined>)[where]?.acr;
    if (!acr || acr.essential !== true) continue;
    if (typeof acr.value === 'string') out.push(acr.value);
    if (Array.isArray(acr.values)) out.push(...acr.values.filter((v): v is string => typeof v === 'string'));
  }
  return out.length ? out : undefined;
}

export function requestNeedsMfa(params: AcrParams): boolean {
  const essential = essentialAcr(params.claims);
  if (essential && needsSecondFactor(essential)) return true;
  // voluntary: values we do not know cannot be satisfied either way and do not force anything
  const requested = String(params.acr_values ?? '').split(' ').filter((v) => KNOWN_ACRS.has(v));
  return needsSecondFactor(requested);
}
