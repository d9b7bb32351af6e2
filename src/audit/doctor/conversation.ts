/**
 * What a client session said and heard, rebuilt from its transcript: the greeting, each command's reply (before
 * or inside TLS) and the TLS parameters. `postern doctor` runs the real client and reads its steps from here.
 */
import type { TranscriptEvent } from '../../core/index.js';
import {
  type Capabilities,
  heloCapabilities,
  parseEhlo,
  type Reply,
  ReplyParser,
} from '../../protocol/index.js';

export interface Exchange {
  /** The command's verb ("EHLO", "STARTTLS", "AUTH", …); "greeting" for the server's first reply. */
  readonly command: string;
  readonly tls: boolean;
  readonly reply: Reply;
}

export class Conversation {
  readonly exchanges: Exchange[] = [];
  tls: { readonly version: string; readonly cipher: string } | undefined;
  #command = 'greeting';
  #parser = new ReplyParser();

  /** The transcript listener to give the session. */
  readonly listener = (event: TranscriptEvent): void => {
    if (event.type === 'tls') {
      this.tls = { version: event.version, cipher: event.cipher };
    } else if (event.type === 'line' && event.direction === 'out') {
      this.#command = (event.line.split(' ')[0] ?? '').toUpperCase();
    } else if (event.type === 'line' && event.direction === 'in') {
      let reply: Reply | undefined;
      try {
        reply = this.#parser.push(event.line);
      } catch {
        this.#parser = new ReplyParser();
        return;
      }
      if (reply) this.exchanges.push({ command: this.#command, tls: event.tls, reply });
    }
  };

  /** The last reply to `command` (on the plaintext or the TLS side, when `tls` is given). */
  reply(command: string, tls?: boolean): Reply | undefined {
    return this.exchanges.findLast((e) => e.command === command && (tls === undefined || e.tls === tls))
      ?.reply;
  }

  /** What EHLO (or, after a refused EHLO, HELO) announced on that side of STARTTLS. */
  capabilities(tls: boolean): { capabilities: Capabilities; helo: boolean } | undefined {
    const ehlo = this.reply('EHLO', tls);
    if (ehlo?.code === 250) return { capabilities: parseEhlo(ehlo), helo: false };
    const helo = this.reply('HELO', tls);
    if (helo?.code === 250) return { capabilities: heloCapabilities(helo), helo: true };
    return undefined;
  }
}
