// Where a webhook may be sent (SSRF). In production a URL must be https and every address its host
// resolves to must be public unicast: not loopback, private (RFC 1918), link-local (cloud metadata
// at 169.254.169.254 included), CGNAT (100.64/10), unique-local (fc00::/7, AWS's fd00:ec2::254),
// multicast, unspecified, reserved or documentation ranges, nor an IPv4 one of those wrapped in IPv6.
// An operator lets a private range through with GATEHOUSE_WEBHOOK_ALLOW_CIDRS (a receiver on the
// internal network). Development and tests allow any address and plain http (localhost receivers).
//
// The check runs when an endpoint is registered and again at every send, and the send connects to
// the very address that was checked (src/webhooks/sender.ts pins it): a DNS answer that changes
// between check and connect (rebinding) cannot move the request.
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface AddressPolicyOptions {
  /** production rules (https only, public addresses only) */
  strict: boolean;
  /** CIDRs allowed even when not public, e.g. ['10.20.0.0/16'] */
  allowCidrs: readonly string[];
}

export class UnsafeWebhookUrl extends Error {
  override name = 'UnsafeWebhookUrl';
}

export interface ResolvedTarget { url: URL; address: string; family: 4 | 6 }

export interface AddressPolicy {
  /** Parses and checks the URL's form (scheme, no credentials); throws UnsafeWebhookUrl. */
  checkUrl(raw: string): URL;
  /** Resolves the host and checks every address; the first one, to connect to. Throws UnsafeWebhookUrl. */
  resolve(url: URL): Promise<ResolvedTarget>;
  /** Whether one address may be reached. */
  allowsAddress(address: string): boolean;
}

/** Resolves a host name to its addresses (replaceable in tests). */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;
const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

export function parseCidrs(list: readonly string[]): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  return list.map((c) => {
    try { return ipaddr.parseCIDR(c); } catch { throw new Error(`not a CIDR: ${c}`); }
  });
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** The address as the family it really is: an IPv4-mapped IPv6 address is its IPv4 one. */
function normalise(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.parse(address);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

export function createAddressPolicy(opts: AddressPolicyOptions, resolver: Resolver = systemResolver): AddressPolicy {
  const allowed = parseCidrs(opts.allowCidrs);
  const inAllowed = (ip: ipaddr.IPv4 | ipaddr.IPv6) => allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));

  const allowsAddress = (address: string): boolean => {
    if (!ipaddr.isValid(address)) return false;
    const ip = normalise(address);
    if (inAllowed(ip)) return true;
    if (!opts.strict) return true;
    if (ip.range() !== 'unicast') return false;
    // IPv6: only global unicast (2000::/3). ipaddr.js calls some other forms "unicast" too — the
    // deprecated IPv4-compatible ::a.b.c.d (::7f00:1 is 127.0.0.1, ::a9fe:a9fe the metadata
    // address) among them — which some hosts still route to the embedded IPv4 address.
    return ip.kind() === 'ipv4' || ip.match(GLOBAL_UNICAST_V6);
  };

  return {
    allowsAddress,
    checkUrl(raw) {
      let url: URL;
      try { url = new URL(raw); } catch { throw new UnsafeWebhookUrl('The URL is not a valid absolute URL.'); }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UnsafeWebhookUrl('The URL must be http or https.');
      if (opts.strict && url.protocol !== 'https:') throw new UnsafeWebhookUrl('The URL must be https in production.');
      if (url.username || url.password) throw new UnsafeWebhookUrl('The URL must not carry a user name or password; the signature authenticates Gatehouse.');
      if (url.hash) throw new UnsafeWebhookUrl('The URL must not have a #fragment.');
      return url;
    },
    async resolve(url) {
      const host = url.hostname.replace(/^\[|\]$/g, '');
      let answers: Array<{ address: string; family: number }>;
      if (ipaddr.isValid(host)) answers = [{ address: host, family: host.includes(':') ? 6 : 4 }];
      else {
        try { answers = await resolver(host); } catch { throw new UnsafeWebhookUrl(`The host ${host} could not be resolved.`); }
      }
      if (answers.length === 0) throw new UnsafeWebhookUrl(`The host ${host} could not be resolved.`);
      // every answer must be allowed: a client could connect to any of them
      const refused = answers.find((a) => !allowsAddress(a.address));
      if (refused) {
        throw new UnsafeWebhookUrl(`The host ${host} resolves to ${refused.address}, a loopback, private, link-local or otherwise non-public address. Allow it with GATEHOUSE_WEBHOOK_ALLOW_CIDRS if it is meant to be reached.`);
      }
      const first = answers[0]!;
      return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
    },
  };
}
