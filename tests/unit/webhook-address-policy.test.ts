// SSRF: in production a webhook may reach only public unicast addresses (every address its host
// resolves to), over https, unless an operator allows a CIDR; development allows localhost.
import { describe, expect, it } from '@jest/globals';
import { createAddressPolicy, UnsafeWebhookUrl, type Resolver } from '../../src/webhooks/address-policy.ts';

const dns = (answers: Record<string, string[]>): Resolver => async (host) => {
  const list = answers[host];
  if (!list) throw new Error('ENOTFOUND');
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const resolver = dns({
  'hooks.example.com': ['93.184.216.34'],
  'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
  'internal.example.com': ['10.20.1.5'],
  'v6.example.com': ['2606:4700::1111'],
});
const production = createAddressPolicy({ strict: true, allowCidrs: [] }, resolver);

describe('the webhook address policy in production', () => {
  it.each([
    '127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2001:db8::1',
    // IPv4-compatible (deprecated) forms of loopback and the metadata address: not global unicast
    '::7f00:1', '::a9fe:a9fe', '::127.0.0.1',
  ])('refuses %s', (address) => {
    expect(production.allowsAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(production.allowsAddress(address)).toBe(true);
  });

  it('requires https and no credentials', () => {
    expect(() => production.checkUrl('http://hooks.example.com/x')).toThrow(UnsafeWebhookUrl);
    expect(() => production.checkUrl('https://user:pw@hooks.example.com/x')).toThrow(UnsafeWebhookUrl);
    expect(() => production.checkUrl('ftp://hooks.example.com/x')).toThrow(UnsafeWebhookUrl);
    expect(production.checkUrl('https://hooks.example.com/x').hostname).toBe('hooks.example.com');
  });

  it('resolves the host and checks every answer; connects to one that was checked', async () => {
    await expect(production.resolve(new URL('https://hooks.example.com/x'))).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    await expect(production.resolve(new URL('https://v6.example.com/x'))).resolves.toMatchObject({ address: '2606:4700::1111', family: 6 });
    await expect(production.resolve(new URL('https://rebind.example.com/x'))).rejects.toThrow(/127\.0\.0\.1/);
    await expect(production.resolve(new URL('https://internal.example.com/x'))).rejects.toThrow(UnsafeWebhookUrl);
    await expect(production.resolve(new URL('https://[fd00:ec2::254]/x'))).rejects.toThrow(UnsafeWebhookUrl);
    await expect(production.resolve(new URL('https://169.254.169.254/latest/meta-data'))).rejects.toThrow(UnsafeWebhookUrl);
    await expect(production.resolve(new URL('https://nowhere.example.com/x'))).rejects.toThrow(/could not be resolved/);
  });

  it('lets an operator allow a private range, and only that one', async () => {
    const allowing = createAddressPolicy({ strict: true, allowCidrs: ['10.20.0.0/16'] }, resolver);
    await expect(allowing.resolve(new URL('https://internal.example.com/x'))).resolves.toMatchObject({ address: '10.20.1.5' });
    expect(allowing.allowsAddress('10.21.0.1')).toBe(false);
    expect(allowing.allowsAddress('127.0.0.1')).toBe(false);
  });
});

describe('the webhook address policy in development', () => {
  it('allows localhost over http', async () => {
    const dev = createAddressPolicy({ strict: false, allowCidrs: [] }, dns({ localhost: ['127.0.0.1'] }));
    expect(dev.checkUrl('http://localhost:4000/hook').protocol).toBe('http:');
    await expect(dev.resolve(new URL('http://localhost:4000/hook'))).resolves.toMatchObject({ address: '127.0.0.1' });
  });
});
