/**
 * Starts and stops a server in-process, for embedding and tests.
 *
 * @example
 * const controller = new ServerController({ endpoints: [{ port: 0, tls: 'starttls' }] });
 * const { port } = (await controller.start())[0];
 * // … send mail to 127.0.0.1:port …
 * await controller.stop();
 */
import { InputError } from '../core/errors.js';
import type { SmtpServerOptions } from './options.js';
import { type CloseOptions, type ListeningAddress, SmtpServer } from './server.js';

export class ServerController {
  readonly server: SmtpServer;
  #running = false;

  constructor(options: SmtpServerOptions) {
    this.server = new SmtpServer(options);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Binds every endpoint; resolves with the addresses in endpoint order. */
  async start(): Promise<readonly ListeningAddress[]> {
    const addresses = await this.server.listen();
    this.#running = true;
    return addresses;
  }

  /** Stops the server (gracefully by default). Safe to call twice. */
  async stop(options: CloseOptions = {}): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.server.close(options);
  }

  /** The bound address of endpoint `index` (default the first). */
  address(index = 0): ListeningAddress {
    const address = this.server.addresses[index];
    if (!address) {
      throw new InputError('ECONFIG', `no endpoint ${index} is listening; call start() first`);
    }
    return address;
  }
}
