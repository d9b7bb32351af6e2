/**
 * The server: listens on its endpoints, prepares TLS (files, SNI map or the automatic certificate), owns the
 * limits shared by all connections, and shuts down gracefully.
 *
 * @example
 * const server = new SmtpServer({ endpoints: [{ port: 2525, tls: 'starttls' }], store: new MaildirStore('mail') });
 * const [address] = await server.listen();
 * await server.close();
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { type Listener, listenTcp, ServerTlsContexts, trustedProxies } from '../net/index.js';
import {
  ensureAutoCertificate,
  ephemeralCertificate,
  loadCertificates,
  type ServerCertificateConfig,
  tlsProfile,
} from '../tls/index.js';
import { Connection, type ServerRuntime } from './connection.js';
import { AuthThrottle, ConnectionCounter } from './limits.js';
import {
  type ResolvedEndpoint,
  type ResolvedOptions,
  resolveOptions,
  type SmtpServerOptions,
} from './options.js';
import type { EndpointTls } from './session.js';
import { MemoryStore } from './stores/memory.js';
import type { MessageStore } from './stores/types.js';

export interface ListeningAddress {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly tls: EndpointTls;
}

export interface CloseOptions {
  /** Let sessions finish their transaction first (default true). */
  readonly graceful?: boolean;
  /** Milliseconds to wait for graceful endings before connections are cut (default 10000). */
  readonly timeout?: number;
}

type ServerState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'listening'; readonly listeners: readonly Listener[] }
  | { readonly kind: 'closing' }
  | { readonly kind: 'closed' };

export class SmtpServer {
  readonly #options: ResolvedOptions;
  /** Where messages go when the backend has no onData. */
  readonly store: MessageStore;
  #state: ServerState = { kind: 'idle' };
  #addresses: ListeningAddress[] = [];
  #certificates: ServerCertificateConfig | undefined;
  #contexts: ServerTlsContexts | undefined;
  #caCertificate: string | undefined;
  #caFile: string | undefined;
  #fakeSaltSecret: Buffer = randomBytes(32);
  readonly #connections = new Set<Connection>();
  readonly #runtime: ServerRuntime;
  readonly #trusted = new Map<ResolvedEndpoint, (address: string) => boolean>();

  constructor(options: SmtpServerOptions) {
    this.#options = resolveOptions(options);
    this.store = options.store ?? new MemoryStore();
    for (const endpoint of this.#options.endpoints) {
      if (endpoint.proxyProtocol) {
        try {
          this.#trusted.set(endpoint, trustedProxies(endpoint.proxyProtocol.trusted));
        } catch (cause) {
          throw new InputError(
            'ECONFIG',
            'proxyProtocol.trusted has an entry that is not an address or network',
            {
              cause,
            },
          );
        }
      }
    }
    const self = this;
    this.#runtime = {
      options: this.#options,
      store: this.store,
      counter: new ConnectionCounter(),
      authThrottle: new AuthThrottle(),
      get fakeSaltSecret() {
        return self.#fakeSaltSecret;
      },
      tlsContexts: () => this.#contexts,
      isTrustedProxy: (endpoint, address) => this.#trusted.get(endpoint)?.(address) ?? false,
    };
  }

  /** The bound addresses, in the order of the endpoints (empty before listen()). */
  get addresses(): readonly ListeningAddress[] {
    return this.#addresses;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** With tls: 'auto', the CA certificate (PEM) clients should trust. */
  get caCertificate(): string | undefined {
    return this.#caCertificate;
  }

  /** With tls: 'auto' and a dataDir, the CA certificate file clients should trust. */
  get caFile(): string | undefined {
    return this.#caFile;
  }

  /** Prepares TLS and binds every endpoint; resolves with the bound addresses (port 0 becomes a real port). */
  async listen(): Promise<readonly ListeningAddress[]> {
    if (this.#state.kind !== 'idle') {
      throw new InputError('ECONFIG', `listen() was already called (the server is ${this.#state.kind})`);
    }
    this.#state = { kind: 'starting' };
    const listeners: Listener[] = [];
    try {
      await this.#prepareSecrets();
      if (this.#options.needsTls) await this.#prepareTls();
      for (const endpoint of this.#options.endpoints) {
        listeners.push(await listenTcp(endpoint, (socket) => this.#accept(socket, endpoint)));
      }
    } catch (error) {
      await Promise.all(listeners.map((l) => l.close()));
      this.#state = { kind: 'idle' };
      throw error;
    }
    this.#state = { kind: 'listening', listeners };
    this.#addresses = listeners.map((l, i) => ({ ...l.address, tls: this.#options.endpoints[i]!.tls }));
    this.#options.logger.info('listening', {
      addresses: this.#addresses.map(
        (a) => `${a.tls}://${a.family === 6 ? `[${a.host}]` : a.host}:${a.port}`,
      ),
    });
    return this.#addresses;
  }

  /**
   * Re-reads certificate files (and the 'auto' certificate) for new connections; connections in progress keep
   * theirs. On an error the old certificates stay in service and the error is thrown.
   */
  async reloadCertificates(): Promise<void> {
    if (!this.#certificates || !this.#contexts) return;
    if (this.#options.tls === 'auto' && this.#options.dataDir) await this.#prepareTls();
    else this.#contexts.update(await loadCertificates(this.#certificates));
    this.#options.logger.info('certificates reloaded', {});
  }

  /** Stops accepting; ends sessions gracefully (within `timeout`) or at once. */
  async close(options: CloseOptions = {}): Promise<void> {
    const state = this.#state;
    if (state.kind === 'closed' || state.kind === 'closing') return;
    this.#state = { kind: 'closing' };
    const listeners = state.kind === 'listening' ? state.listeners : [];
    // net.Server#close calls back only when every connection is gone, so it is awaited last.
    const stopped = Promise.all(listeners.map((l) => l.close()));
    const all = () => Promise.all([...this.#connections].map((c) => c.done));
    if (options.graceful !== false && this.#connections.size > 0) {
      for (const connection of this.#connections) connection.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        all(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.timeout ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const connection of this.#connections) connection.destroy();
    await all();
    await stopped;
    this.#state = { kind: 'closed' };
    this.#options.logger.info('closed', {});
  }

  #accept(socket: Socket, endpoint: ResolvedEndpoint): void {
    if (this.#state.kind !== 'listening') {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, endpoint, this.#runtime);
    this.#connections.add(connection);
    void connection.run().finally(() => this.#connections.delete(connection));
  }

  async #prepareTls(): Promise<void> {
    const o = this.#options;
    let config: ServerCertificateConfig;
    if (o.tls !== 'auto') {
      config = o.tls;
    } else if (o.dataDir) {
      const auto = await ensureAutoCertificate(o.dataDir, { names: o.autoCertificateNames });
      if (auto.created)
        o.logger.info('generated a TLS certificate', { caFile: auto.caFile, certFile: auto.certFile });
      config = { certFile: auto.certFile, keyFile: auto.keyFile };
      this.#caCertificate = auto.caCert;
      this.#caFile = auto.caFile;
    } else {
      const ephemeral = await ephemeralCertificate(o.autoCertificateNames);
      config = { cert: ephemeral.cert, key: ephemeral.key };
      this.#caCertificate = ephemeral.caCert;
    }
    const set = await loadCertificates(config);
    if (this.#contexts) this.#contexts.update(set);
    else this.#contexts = new ServerTlsContexts(set, tlsProfile(o.profile));
    this.#certificates = config;
  }

  /** SCRAM's fake-salt secret: given, kept in dataDir (0600), or random per process. */
  async #prepareSecrets(): Promise<void> {
    const o = this.#options;
    if (!o.auth) return;
    if (o.auth.secretForFakeSalts) {
      this.#fakeSaltSecret = o.auth.secretForFakeSalts;
      return;
    }
    if (!o.dataDir) return;
    const file = join(o.dataDir, 'scram-fake-salt.key');
    try {
      const existing = await readFile(file);
      if (existing.length >= 16) {
        this.#fakeSaltSecret = existing;
        return;
      }
    } catch {
      // not there yet
    }
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, this.#fakeSaltSecret, { mode: 0o600 });
    await chmod(file, 0o600);
  }
}
