// Builds DNS messages octet by octet for the codec tests, so hostile shapes can be written down exactly.

/** An uncompressed name: length-prefixed labels and the root label. */
export function name(text: string): Buffer {
  const parts = text === '' ? [] : text.split('.');
  return Buffer.concat([
    ...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ]);
}

/** A question entry (class IN). */
export function question(qname: string, type: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([name(qname), tail]);
}

/** A resource record with `owner` as given (may be a pointer) and RDLENGTH from `rdata` unless overridden. */
export function rr(
  owner: Buffer,
  type: number,
  rdata: Buffer,
  o: { ttl?: number; klass?: number; rdlength?: number } = {},
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(o.klass ?? 1, 2);
  fixed.writeUInt32BE(o.ttl ?? 300, 4);
  fixed.writeUInt16BE(o.rdlength ?? rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

export interface MessageParts {
  id?: number;
  flags?: number;
  question?: Buffer | Buffer[];
  answers?: Buffer[];
  authority?: Buffer[];
  additional?: Buffer[];
  /** Override the header counts (qd, an, ns, ar). */
  counts?: [number, number, number, number];
}

/** A whole message; the question is at offset 12, so `0xc0 0x0c` points at its name. */
export function message(p: MessageParts): Buffer {
  const questions = p.question === undefined ? [] : Array.isArray(p.question) ? p.question : [p.question];
  const answers = p.answers ?? [];
  const authority = p.authority ?? [];
  const additional = p.additional ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(p.id ?? 1, 0);
  header.writeUInt16BE(p.flags ?? 0x8180, 2);
  const counts = p.counts ?? [questions.length, answers.length, authority.length, additional.length];
  counts.forEach((c, i) => {
    header.writeUInt16BE(c, 4 + 2 * i);
  });
  return Buffer.concat([header, ...questions, ...answers, ...authority, ...additional]);
}
