/**
 * The DNS wire format (RFC 1035 §4, EDNS0 from RFC 6891): building one query and reading one reply, for the
 * record types the audit needs (A, AAAA, CNAME, MX, TXT, TLSA). No I/O here; dns-client.ts does that.
 *
 * Replies come from whatever answers on the network, so reading is bounded everywhere: every length is checked
 * against the bytes that are there, a compression pointer may only point backwards (so pointer loops end), a
 * name is at most 255 octets, and the record counts cannot exceed what the message could hold.
 */
import { InputError, ProtocolError } from '../core/errors.js';

/** Record types by name, as they travel on the wire. */
export const DNS_TYPES = { A: 1, CNAME: 5, MX: 15, TXT: 16, AAAA: 28, OPT: 41, TLSA: 52 } as const;
export type DnsType = Exclude<keyof typeof DNS_TYPES, 'OPT'>;

/** Reply codes (RFC 1035 §4.1.1, RFC 6895 §2.3) by number, for messages. */
export const DNS_RCODES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};

/** EDNS0 UDP payload size we advertise: the DNS flag day 2020 value, which avoids IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;

const MAX_MESSAGE = 65_535;
const MAX_NAME_OCTETS = 255;
const HEADER_SIZE = 12;
// Smallest resource record: root name (1) + type, class, ttl, rdlength (10).
const MIN_RR_SIZE = 11;

interface RecordBase {
  /** Owner name, lower-case, without the trailing dot ("" is the root). */
  readonly name: string;
  readonly ttl: number;
}

export type DnsRecord =
  | (RecordBase & { readonly type: 'A'; readonly address: string })
  | (RecordBase & { readonly type: 'AAAA'; readonly address: string })
  | (RecordBase & { readonly type: 'CNAME'; readonly target: string })
  | (RecordBase & { readonly type: 'MX'; readonly preference: number; readonly exchange: string })
  /** Each character-string of the record as latin1 text (byte for byte); RFC 7208 §3.3 joins them. */
  | (RecordBase & { readonly type: 'TXT'; readonly strings: readonly string[] })
  | (RecordBase & {
      readonly type: 'TLSA';
      readonly usage: number;
      readonly selector: number;
      readonly matchingType: number;
      readonly data: Buffer;
    })
  /** Anything else (RRSIG, NSEC, OPT, …), kept as raw bytes. */
  | (RecordBase & { readonly type: 'OTHER'; readonly code: number; readonly data: Buffer });

export interface DnsFlags {
  /** Authoritative answer. */
  readonly aa: boolean;
  /** Truncated: the answer did not fit; ask again over TCP. */
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  /** Authentic data: the resolver validated the answer with DNSSEC (RFC 4035 §3.2.3). */
  readonly ad: boolean;
  readonly cd: boolean;
}

export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  /** The full reply code, including the EDNS extended bits. */
  readonly rcode: number;
  readonly flags: DnsFlags;
  readonly question: readonly { readonly name: string; readonly type: number; readonly class: number }[];
  readonly answers: readonly DnsRecord[];
  readonly authority: readonly DnsRecord[];
  readonly additional: readonly DnsRecord[];
  /** The EDNS0 OPT record, when the reply carried one. */
  readonly edns?:
    | { readonly udpSize: number; readonly version: number; readonly dnssecOk: boolean }
    | undefined;
}

/** The name of a reply code, e.g. "SERVFAIL", or "RCODE 9". */
export function rcodeName(rcode: number): string {
  return DNS_RCODES[rcode] ?? `RCODE ${rcode}`;
}

/** Lower-cases a domain name and drops one trailing dot; the form names take everywhere in this module. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function encodeName(name: string): Buffer {
  const normal = normalizeName(name);
  if (normal === '') return Buffer.from([0]);
  // Host names (LDH) and the underscore labels of _mta-sts, _smtp._tls, _25._tcp; nothing that needs escaping.
  if (!/^[a-z0-9_*-]+(\.[a-z0-9_*-]+)*$/.test(normal)) {
    throw new InputError('EINVALID_ARGUMENT', `not a DNS name that can be queried: ${JSON.stringify(name)}`, {
      hint: 'use the ASCII (A-label, "xn--") form of internationalised names',
    });
  }
  const parts: Buffer[] = [];
  for (const label of normal.split('.')) {
    if (label.length > 63) {
      throw new InputError('EINVALID_ARGUMENT', `DNS label longer than 63 octets in ${JSON.stringify(name)}`);
    }
    parts.push(Buffer.from([label.length]), Buffer.from(label, 'ascii'));
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > MAX_NAME_OCTETS) {
    throw new InputError('EINVALID_ARGUMENT', `DNS name longer than 255 octets: ${JSON.stringify(name)}`);
  }
  return out;
}

/**
 * One query with recursion desired and an EDNS0 OPT record with the DO bit, so that a validating resolver
 * sets AD on DNSSEC-secure answers (RFC 3225, RFC 6840 §5.7: AD in the query asks for it as well).
 *
 * @example encodeQuery(0x1234, 'example.com', 'MX')
 */
export function encodeQuery(id: number, name: string, type: DnsType): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100 | 0x0020, 2); // RD, AD
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 10); // ARCOUNT: the OPT record
  const question = Buffer.alloc(4);
  question.writeUInt16BE(DNS_TYPES[type], 0);
  question.writeUInt16BE(1, 2); // IN
  const opt = Buffer.alloc(11);
  opt.writeUInt8(0, 0); // root name
  opt.writeUInt16BE(DNS_TYPES.OPT, 1);
  opt.writeUInt16BE(EDNS_UDP_SIZE, 3);
  opt.writeUInt32BE(0x0000_8000, 5); // extended rcode 0, version 0, DO
  opt.writeUInt16BE(0, 9);
  return Buffer.concat([header, encodeName(name), question, opt]);
}

function malformed(why: string): ProtocolError {
  return new ProtocolError('EPROTOCOL', `malformed DNS reply: ${why}`, {
    hint: 'the DNS server (or something between us and it) sent bytes that are not a DNS message',
  });
}

/** Presentation form of one label: letters, digits, "-" and "_" as they are, anything else as \DDD. */
function labelText(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b).toLowerCase();
    out += /[a-z0-9_*-]/.test(c) ? c : `\\${String(b).padStart(3, '0')}`;
  }
  return out;
}

/** A bounded reader over one message. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw malformed(`${what} runs past the end of the message`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * A possibly compressed name. Each pointer must point before the label sequence it ends, so every jump
   * goes strictly backwards and a chain of pointers ends after at most as many jumps as there are bytes.
   */
  name(what: string): string {
    const labels: string[] = [];
    let octets = 1;
    let pos = this.pos;
    let end: number | undefined;
    // Pointers may only target offsets below this one; it falls with every jump.
    let limit = pos;
    while (true) {
      const len = this.buf[pos];
      if (len === undefined) throw malformed(`${what}: name runs past the end of the message`);
      if ((len & 0xc0) === 0xc0) {
        const next = this.buf[pos + 1];
        if (next === undefined) throw malformed(`${what}: name runs past the end of the message`);
        const target = ((len & 0x3f) << 8) | next;
        end ??= pos + 2;
        if (target >= limit) throw malformed(`${what}: compression pointer does not point backwards`);
        limit = target;
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw malformed(`${what}: reserved label type 0x${len.toString(16)}`);
      if (len === 0) {
        pos += 1;
        break;
      }
      octets += len + 1;
      if (octets > MAX_NAME_OCTETS) throw malformed(`${what}: name longer than 255 octets`);
      if (pos + 1 + len > this.buf.length) throw malformed(`${what}: label runs past the end of the message`);
      labels.push(labelText(this.buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    this.pos = end ?? pos;
    return labels.join('.');
  }
}

/** EDNS0's OPT pseudo-record reuses CLASS as the UDP payload size and TTL as extended rcode and flags. */
interface OptRecord {
  readonly type: 'OPT';
  readonly udpSize: number;
  readonly bits: number;
}

function decodeRecord(r: Reader, section: string): DnsRecord | OptRecord {
  const name = r.name(`${section} owner`);
  const code = r.u16(`${section} type`);
  const klass = r.u16(`${section} class`);
  const rawTtl = r.u32(`${section} TTL`);
  const rdlength = r.u16(`${section} RDLENGTH`);
  r.need(rdlength, `${section} RDATA (${rdlength} octets)`);
  const end = r.pos + rdlength;
  const rdata = r.buf.subarray(r.pos, end);
  const record = decodeRdata(r, { name, code, klass, rawTtl, rdata, end });
  r.pos = end;
  return record;
}

interface RecordFrame {
  readonly name: string;
  readonly code: number;
  readonly klass: number;
  readonly rawTtl: number;
  readonly rdata: Buffer;
  /** Offset just after the RDATA. */
  readonly end: number;
}

function decodeRdata(r: Reader, f: RecordFrame): DnsRecord | OptRecord {
  if (f.code === DNS_TYPES.OPT) return { type: 'OPT', udpSize: f.klass, bits: f.rawTtl };
  // RFC 2181 §8: a TTL with the top bit set is treated as zero.
  const base = { name: f.name, ttl: f.rawTtl > 0x7fff_ffff ? 0 : f.rawTtl };
  const { rdata } = f;
  if (f.klass !== 1) return { ...base, type: 'OTHER', code: f.code, data: Buffer.from(rdata) };
  const exactly = (n: number, type: string) => {
    if (rdata.length !== n) throw malformed(`${type} record of ${rdata.length} octets (expected ${n})`);
  };
  // Names inside RDATA may be compressed (MX, CNAME) but must end inside the RDATA.
  const rdataName = (type: string): string => {
    const value = r.name(`${type} RDATA`);
    if (r.pos > f.end) throw malformed(`${type} RDATA name runs past its RDLENGTH`);
    return value;
  };
  switch (f.code) {
    case DNS_TYPES.A:
      exactly(4, 'A');
      return { ...base, type: 'A', address: [...rdata].join('.') };
    case DNS_TYPES.AAAA: {
      exactly(16, 'AAAA');
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(rdata.readUInt16BE(i).toString(16));
      return { ...base, type: 'AAAA', address: compressIpv6(groups) };
    }
    case DNS_TYPES.CNAME:
      return { ...base, type: 'CNAME', target: rdataName('CNAME') };
    case DNS_TYPES.MX: {
      if (rdata.length < 3) throw malformed(`MX record of ${rdata.length} octets`);
      const preference = r.u16('MX preference');
      return { ...base, type: 'MX', preference, exchange: rdataName('MX') };
    }
    case DNS_TYPES.TXT: {
      const strings: string[] = [];
      for (let i = 0; i < rdata.length; ) {
        const len = rdata[i] as number;
        if (i + 1 + len > rdata.length) throw malformed('TXT character-string runs past its RDLENGTH');
        strings.push(rdata.subarray(i + 1, i + 1 + len).toString('latin1'));
        i += 1 + len;
      }
      if (strings.length === 0) throw malformed('TXT record without any character-string');
      return { ...base, type: 'TXT', strings };
    }
    case DNS_TYPES.TLSA:
      if (rdata.length < 3) throw malformed(`TLSA record of ${rdata.length} octets`);
      return {
        ...base,
        type: 'TLSA',
        usage: rdata[0] as number,
        selector: rdata[1] as number,
        matchingType: rdata[2] as number,
        data: Buffer.from(rdata.subarray(3)),
      };
    default:
      return { ...base, type: 'OTHER', code: f.code, data: Buffer.from(rdata) };
  }
}

function compressIpv6(groups: string[]): string {
  // RFC 5952: the longest run (≥ 2) of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * Reads one DNS message; throws a ProtocolError (code EPROTOCOL) on anything malformed. Bytes after the last
 * record are ignored, as resolvers do.
 */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length < HEADER_SIZE) throw malformed(`${buf.length} octets is shorter than a DNS header`);
  if (buf.length > MAX_MESSAGE) throw malformed(`${buf.length} octets is longer than a DNS message can be`);
  const r = new Reader(buf);
  const id = r.u16('ID');
  const bits = r.u16('flags');
  const counts = [r.u16('QDCOUNT'), r.u16('ANCOUNT'), r.u16('NSCOUNT'), r.u16('ARCOUNT')] as const;
  const [qd, an, ns, ar] = counts;
  // Each question takes ≥ 5 octets and each record ≥ 11: counts beyond that are lies, caught before looping.
  if (qd * 5 + (an + ns + ar) * MIN_RR_SIZE > buf.length - HEADER_SIZE) {
    throw malformed(
      `the header counts ${qd}/${an}/${ns}/${ar} entries, more than ${buf.length} octets can hold`,
    );
  }
  const question: { name: string; type: number; class: number }[] = [];
  for (let i = 0; i < qd; i++) {
    question.push({ name: r.name('question'), type: r.u16('question type'), class: r.u16('question class') });
  }
  const section = (count: number, label: string) => {
    const out: (DnsRecord | OptRecord)[] = [];
    for (let i = 0; i < count; i++) out.push(decodeRecord(r, label));
    return out;
  };
  const plain = (records: (DnsRecord | OptRecord)[], label: string): DnsRecord[] =>
    records.map((rec) => {
      if (rec.type === 'OPT') throw malformed(`OPT record in the ${label} section`);
      return rec;
    });
  const answers = plain(section(an, 'answer'), 'answer');
  const authority = plain(section(ns, 'authority'), 'authority');
  let rcode = bits & 0x000f;
  let edns: DnsMessage['edns'];
  const additional: DnsRecord[] = [];
  for (const rec of section(ar, 'additional')) {
    if (rec.type !== 'OPT') {
      additional.push(rec);
      continue;
    }
    if (edns) throw malformed('more than one OPT record');
    rcode |= (rec.bits >>> 24) << 4;
    edns = { udpSize: rec.udpSize, version: (rec.bits >>> 16) & 0xff, dnssecOk: (rec.bits & 0x8000) !== 0 };
  }
  return {
    id,
    response: (bits & 0x8000) !== 0,
    opcode: (bits >>> 11) & 0x0f,
    rcode,
    flags: {
      aa: (bits & 0x0400) !== 0,
      tc: (bits & 0x0200) !== 0,
      rd: (bits & 0x0100) !== 0,
      ra: (bits & 0x0080) !== 0,
      ad: (bits & 0x0020) !== 0,
      cd: (bits & 0x0010) !== 0,
    },
    question,
    answers,
    authority,
    additional,
    edns,
  };
}

/**
 * The records of `type` that answer `name`, following CNAMEs inside the answer section (at most 8 hops,
 * so a CNAME loop ends).
 */
export function answersFor<T extends DnsType>(
  message: DnsMessage,
  name: string,
  type: T,
): Extract<DnsRecord, { type: T }>[] {
  let current = normalizeName(name);
  const seen = new Set<string>();
  for (let hop = 0; hop <= 8 && !seen.has(current); hop++) {
    seen.add(current);
    const found = message.answers.filter(
      (rec): rec is Extract<DnsRecord, { type: T }> => rec.type === type && rec.name === current,
    );
    if (found.length > 0 || type === 'CNAME') return found;
    const alias = message.answers.find((rec) => rec.type === 'CNAME' && rec.name === current);
    if (alias?.type !== 'CNAME') return [];
    current = alias.target;
  }
  return [];
}
