// Runs a server with a Maildir for the durability test, which kills this process with SIGKILL right after
// the 250 to the end of data. Prints the port on stdout.
import { MaildirStore, SmtpServer } from '../../../src/server/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: durability-child.ts MAILDIR');
const server = new SmtpServer({
  endpoints: [{ port: 0, tls: 'none' }],
  hostname: 'mx.test',
  store: new MaildirStore(dir),
});
const [address] = await server.listen();
process.stdout.write(`${address!.port}\n`);
