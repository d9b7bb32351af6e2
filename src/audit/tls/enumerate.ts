/**
 * Which protocols a server accepts and every suite per protocol. Suites are enumerated testssl.sh-style: offer
 * a batch, note the suite the server picks, offer the batch without it, repeat until the server refuses.
 * Batches keep every hello near 512 bytes.
 *
 * Every batch of every protocol is walked in parallel first. A walk that got no answer (silence, a failed
 * connection), or a close after the protocol had already been accepted, did not end in a refusal: a busy
 * server, or one that serves one client at a time (openssl s_server), looks exactly like that while other
 * probes hold it. Such walks are resumed afterwards, one connection at a time, before any verdict; a protocol
 * that stays silent even then is left undetermined (null), never taken as "not offered".
 */
import type { PosternError } from '../../core/errors.js';
import type { CipherSuiteInfo } from '../types.js';
import { batches, type TlsVersionName, VERSION_CODES } from './hello.js';
import type { ProbeFailure, ProbeSession } from './probe.js';
import type { ServerHello } from './server-hello.js';
import {
  LEGACY_SUITES,
  SSL2_CIPHER_KINDS,
  ssl2KindByCode,
  suiteByCode,
  suiteCode,
  TLS13_SUITES,
} from './suites.js';

export const TLS_VERSIONS: readonly TlsVersionName[] = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** What enumerating one protocol found. */
export interface Enumeration {
  readonly offered: boolean | null;
  /** Accepted suite codes, in the order found. */
  readonly accepted: readonly number[];
  /** Whether all accepted suites came from one batch (then the order found is the server's order). */
  readonly oneBatch: boolean;
  /** The first ServerHello of this protocol (for renegotiation_info). */
  readonly firstHello?: ServerHello | undefined;
}

/** Everything enumerate() found; `plaintext` when the port answered in plaintext rather than TLS. */
export interface Enumerations {
  readonly sslv2: { readonly offered: boolean | null; readonly ciphers: CipherSuiteInfo[] };
  readonly tls: ReadonlyMap<TlsVersionName, Enumeration>;
  readonly plaintext?: PosternError | undefined;
}

/**
 * How a walk (or the SSLv2 probe) ended so far. 'exhausted': every suite taken or the rest refused (an alert,
 * a close); 'version-refused': the server refused the protocol itself (protocol_version, or a ServerHello of
 * another version); 'odd': an answer we cannot use (malformed, or a suite that was not offered), noted;
 * 'silent' and 'failed': no answer (a timeout, a failed connection); 'closed': a close, which is a refusal
 * unless the protocol was accepted elsewhere.
 */
type End = 'exhausted' | 'version-refused' | 'odd' | 'silent' | 'failed' | 'closed' | 'plaintext';

interface Walk {
  readonly version: TlsVersionName | 'SSLv2';
  readonly remaining: number[];
  readonly found: number[];
  firstHello?: ServerHello | undefined;
  end: End;
  error?: PosternError | undefined;
}

const UNANSWERED: ReadonlySet<End> = new Set(['silent', 'failed']);
/** Alerts that say "none of these suites", which need no note. */
const EXPECTED_ALERTS = ['handshake_failure', 'insufficient_security'];
/** The order retries go in: the protocols most servers speak first, so a silent server is found out early. */
const RETRY_ORDER = ['TLSv1.2', 'TLSv1.3', 'TLSv1.1', 'TLSv1.0', 'SSLv3', 'SSLv2'] as const;

function failureEnd(f: ProbeFailure): End {
  if (f.error.code === 'ETIMEOUT') return 'silent';
  if (f.error.code === 'ETLS_PLAINTEXT_PORT') return 'plaintext';
  if (f.error.code === 'ETLS_HANDSHAKE') return 'odd';
  return 'failed';
}

/** Finds the protocols and suites of one scan's target (see the file comment for the method). */
export class Enumerator {
  readonly #s: ProbeSession;
  /** Whether anything at all came back (a ServerHello, an alert, a close, garbage): the server is not mute. */
  #answered = false;

  constructor(session: ProbeSession) {
    this.#s = session;
  }

  async enumerate(): Promise<Enumerations> {
    const walks: Walk[] = [
      { version: 'SSLv2', remaining: SSL2_CIPHER_KINDS.map(suiteCode), found: [], end: 'failed' },
      ...TLS_VERSIONS.flatMap((version) =>
        batches((version === 'TLSv1.3' ? TLS13_SUITES : LEGACY_SUITES).map(suiteCode)).map(
          (remaining): Walk => ({ version, remaining, found: [], end: 'failed' }),
        ),
      ),
    ];
    await Promise.all(walks.map((w) => this.#advance(w, false)));
    const plaintext = walks.find((w) => w.end === 'plaintext')?.error;
    const anyHello = walks.some((w) => w.found.length > 0);
    if (this.#s.fatal || (plaintext && !anyHello))
      return { sslv2: { offered: null, ciphers: [] }, tls: new Map(), plaintext };
    await this.#retry(walks);
    const ssl2 = walks[0] as Walk;
    return {
      sslv2: { offered: this.#verdict([ssl2]), ciphers: ssl2.found.map(ssl2KindByCode) },
      tls: new Map(TLS_VERSIONS.map((v) => [v, this.#result(walks.filter((w) => w.version === v))])),
    };
  }

  /** Walks on from where `w` stopped; on a retry a close is final (the server refuses that way). */
  async #advance(w: Walk, retry: boolean): Promise<void> {
    if (w.version === 'SSLv2') return this.#sslv2(w);
    const version = w.version;
    while (w.remaining.length > 0) {
      const r = await this.#s.tls({ version, suites: w.remaining });
      if (r.kind === 'error') return this.#failed(w, r);
      this.#answered = true;
      if (r.kind === 'closed') {
        w.end = retry ? 'exhausted' : 'closed';
        return;
      }
      if (r.kind === 'alert') {
        if (r.name === 'protocol_version') w.end = 'version-refused';
        else {
          if (!EXPECTED_ALERTS.includes(r.name))
            this.#s.note(`${version}: the server refused a hello with alert ${r.name}`);
          w.end = 'exhausted';
        }
        return;
      }
      if (r.hello.version !== VERSION_CODES[version]) {
        w.end = 'version-refused';
        return;
      }
      const i = w.remaining.indexOf(r.hello.cipherSuite);
      if (i < 0) {
        this.#s.note(
          `${version}: the server chose ${suiteByCode(r.hello.cipherSuite).name}, which the hello did not offer`,
        );
        w.end = 'odd';
        return;
      }
      w.firstHello ??= r.hello;
      w.found.push(r.hello.cipherSuite);
      w.remaining.splice(i, 1);
    }
    w.end = 'exhausted';
  }

  async #sslv2(w: Walk): Promise<void> {
    const r = await this.#s.sslv2(w.remaining);
    if (r.kind === 'error') {
      // An answer that is neither SSLv2 nor TLS (nor plaintext) still says the server does not speak SSLv2.
      if (r.error.code === 'ETLS_HANDSHAKE') {
        this.#answered = true;
        w.end = 'exhausted';
      } else this.#failed(w, r);
      return;
    }
    this.#answered = true;
    if (r.kind === 'sslv2-hello') {
      const offered = new Set(w.remaining);
      w.found.push(...r.cipherKinds.filter((k) => offered.has(k)));
    }
    w.end = 'exhausted';
  }

  #failed(w: Walk, r: ProbeFailure): void {
    w.end = failureEnd(r);
    w.error = r.error;
    if (w.end === 'odd' || w.end === 'plaintext') {
      this.#answered = true;
      this.#s.note(`${w.version}: a probe got no usable answer: ${r.error.message}`);
    }
  }

  /** Whether `w` stopped without an answer that settles it, so that it is worth another try. */
  #unsettled(w: Walk, walks: readonly Walk[]): boolean {
    const same = walks.filter((o) => o.version === w.version);
    if (same.some((o) => o.end === 'version-refused') && !same.some((o) => o.found.length > 0)) return false;
    if (UNANSWERED.has(w.end)) return true;
    // A close once the protocol is known to be accepted may be load rather than a refusal.
    return w.end === 'closed' && same.some((o) => o.found.length > 0);
  }

  /**
   * The retry phase: unsettled walks resumed one connection at a time, protocol by protocol. A protocol that
   * is silent again is given up (its other walks are not tried: each would cost a timeout), and when nothing
   * at all has answered so far, one silent retry ends the phase.
   */
  async #retry(walks: readonly Walk[]): Promise<void> {
    for (const version of RETRY_ORDER) {
      for (const w of walks) {
        if (w.version !== version || !this.#unsettled(w, walks)) continue;
        await this.#advance(w, true);
        if (UNANSWERED.has(w.end)) {
          if (!this.#answered) return;
          break;
        }
      }
    }
  }

  /** true / false / null for one protocol's walks, after the retries. */
  #verdict(walks: readonly Walk[]): boolean | null {
    if (walks.some((w) => w.found.length > 0)) return true;
    if (walks.some((w) => w.end === 'version-refused')) return false;
    return walks.every((w) => w.end === 'exhausted' || w.end === 'closed') ? false : null;
  }

  #result(walks: readonly Walk[]): Enumeration {
    const version = walks[0]?.version;
    const offered = this.#verdict(walks);
    const unanswered = walks.find((w) => UNANSWERED.has(w.end));
    if (unanswered && offered !== false) this.#noteUnanswered(version, offered, unanswered);
    return {
      offered,
      accepted: walks.flatMap((w) => w.found),
      oneBatch: walks.filter((w) => w.found.length > 0).length <= 1,
      firstHello: walks.find((w) => w.firstHello)?.firstHello,
    };
  }

  #noteUnanswered(version: string | undefined, offered: boolean | null, w: Walk): void {
    const why =
      w.end === 'silent'
        ? `no answer to its hellos within ${this.#s.timeout} ms${this.#answered ? ', even when retried alone' : ''}`
        : `a probe failed: ${w.error?.message ?? 'no answer'}`;
    this.#s.note(
      offered
        ? `${version}: the list of suites may be incomplete (${why})`
        : `${version}: ${why}; not determined`,
    );
  }
}
