// A User-Agent header in words a person recognises ("Chrome on Linux"), for the account's sessions
// page and the console, parsed by bowser. Returns the parts so each page can translate the joiner.
import Bowser from 'bowser';

export interface DeviceDescription { browser?: string; os?: string; commandLine: boolean }

const COMMAND_LINE = /^(curl|node|undici|python-requests|python-httpx|Go-http-client|okhttp|axios|got)\b/i;

export function describeUserAgent(ua: string | null | undefined): DeviceDescription {
  if (!ua) return { commandLine: false };
  if (COMMAND_LINE.test(ua)) return { commandLine: true };
  const parsed = Bowser.parse(ua);
  return { browser: parsed.browser.name || undefined, os: parsed.os.name || undefined, commandLine: false };
}

/** English words for it: "Chrome on Linux", "Firefox", "Command line", "Unknown device". */
export function userAgentInWords(ua: string | null | undefined): string {
  const d = describeUserAgent(ua);
  if (d.commandLine) return 'Command line';
  if (!d.browser && !d.os) return ua ? 'Browser' : 'Unknown device';
  if (d.browser && d.os) return `${d.browser} on ${d.os}`;
  return d.browser ?? d.os!;
}
