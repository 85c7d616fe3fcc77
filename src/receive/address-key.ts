import { isIPv4, isIPv6 } from 'node:net';

/**
 * The "one client" unit that per-address limits count in: an IPv4 address, or the /64 network of an
 * IPv6 address (one host is routinely handed a whole /64, so counting single IPv6 addresses would
 * let it take any number of slots). An IPv4-mapped IPv6 address counts as its IPv4 address.
 * undefined for a Unix socket peer (local; not limited per address).
 */
export function addressKey(remoteAddress: string | undefined): string | undefined {
  if (!remoteAddress) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1];
  if (isIPv4(remoteAddress) || !isIPv6(remoteAddress)) return remoteAddress;
  return `${ipv6Groups(remoteAddress).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, expanded (`::` filled in, zone id dropped). */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => (g.includes('.') ? g : Number.parseInt(g, 16).toString(16)));
}
