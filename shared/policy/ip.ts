// IP and CIDR parsing for the client-IP filter (IPv4, IPv6, IPv4-mapped IPv6). Ranges are parsed
// once per settings object; each request parses only its own client address.

/** An address as 8 × 16-bit groups (IPv4 is stored IPv4-mapped: ::ffff:a.b.c.d). */
export type IpBytes = Uint16Array;

interface Range {
  addr: IpBytes;
  /** Prefix length in bits over the 128-bit form. */
  bits: number;
}

/** A compiled list of addresses and CIDR ranges. */
export interface IpSet {
  readonly size: number;
  has(ip: string | null): boolean;
}

/**
 * Invalid entries are ignored (as Relay does), so one typo does not disable the whole filter.
 *
 * @example compileIpSet(["10.0.0.0/8", "2001:db8::/32"]).has("10.1.2.3") // true
 */
export function compileIpSet(entries: readonly string[]): IpSet {
  const ranges: Range[] = [];
  for (const raw of entries) {
    const r = parseCidr(raw.trim());
    if (r) ranges.push(r);
  }
  return {
    size: ranges.length,
    has(ip: string | null): boolean {
      if (!ip || ranges.length === 0) return false;
      const addr = parseIp(ip);
      if (!addr) return false;
      for (const r of ranges) if (inRange(addr, r)) return true;
      return false;
    },
  };
}

function parseCidr(s: string): Range | null {
  const slash = s.indexOf("/");
  const addrPart = slash === -1 ? s : s.slice(0, slash);
  const addr = parseIp(addrPart);
  if (!addr) return null;
  const isV4 = !addrPart.includes(":");
  const max = isV4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return null;
    bits = Number(b);
    if (bits > max) return null;
  }
  return { addr, bits: isV4 ? bits + 96 : bits };
}

function inRange(addr: IpBytes, r: Range): boolean {
  let bits = r.bits;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((addr[i] as number) & mask) !== ((r.addr[i] as number) & mask)) return false;
  }
  return true;
}

/** Parses an IPv4 or IPv6 address (brackets and a zone id tolerated); null when invalid. */
export function parseIp(input: string): IpBytes | null {
  let s = input.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone !== -1) s = s.slice(0, zone);
  if (!s.includes(":")) {
    const v4 = parseV4(s);
    if (v4 === null) return null;
    return mapped(v4);
  }
  return parseV6(s);
}

function mapped(v4: number): IpBytes {
  const out = new Uint16Array(8);
  out[5] = 0xffff;
  out[6] = v4 >>> 16;
  out[7] = v4 & 0xffff;
  return out;
}

function parseV4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

function parseV6(s: string): IpBytes | null {
  const dbl = s.indexOf("::");
  if (dbl !== -1 && s.indexOf("::", dbl + 1) !== -1) return null;
  const head = dbl === -1 ? s : s.slice(0, dbl);
  const tail = dbl === -1 ? "" : s.slice(dbl + 2);
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups: number[] = [];
  const all = [...headGroups, ...tailGroups];
  const parsed: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const g = all[i] as string;
    if (i === all.length - 1 && g.includes(".")) {
      // An embedded IPv4 is only valid as the final 32 bits.
      if (dbl !== -1 && tailGroups.length === 0) return null;
      const v4 = parseV4(g);
      if (v4 === null) return null;
      parsed.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      parsed.push(Number.parseInt(g, 16));
    }
  }
  const headLen = headGroups.length;
  const tailLen = parsed.length - headLen;
  if (dbl === -1) {
    if (parsed.length !== 8) return null;
    groups.push(...parsed);
  } else {
    if (parsed.length > 7) return null;
    groups.push(...parsed.slice(0, headLen));
    for (let i = 0; i < 8 - parsed.length; i++) groups.push(0);
    groups.push(...parsed.slice(headLen, headLen + tailLen));
  }
  return Uint16Array.from(groups);
}
