/**
 * The message the demo sends: a Chinese subject, text and HTML bodies, and a small attachment with a UTF-8 file
 * name — composed by createTransport(...).send(message) for what the server offers (SMTPUTF8, 8BITMIME).
 */
import type { Message } from '../../mime/index.js';

export const DEMO_SUBJECT = '你好，Postern！安全邮件演示';

/** A fresh message object for each send (`n` numbers them in the body). */
export function demoMessage(n: number, how: string): Message {
  return {
    from: 'Postern Demo <demo@example.test>',
    to: 'Recipient <recipient@example.test>',
    subject: DEMO_SUBJECT,
    text:
      `Hello from Postern — message ${n}, sent over ${how}.\n` +
      '你好，世界！这封邮件通过 TLS 加密传输。\n' +
      '.a line starting with a dot survives dot-stuffing\n',
    html:
      `<p>Hello from <b>Postern</b> — message ${n}, sent over ${how}.</p>\n` +
      '<p lang="zh">你好，世界！这封邮件通过 TLS 加密传输。</p>\n',
    attachments: [
      {
        filename: '说明-notes.txt',
        content: 'A small attachment: 附件 (attachment).\n',
        contentType: 'text/plain; charset=utf-8',
      },
    ],
  };
}
