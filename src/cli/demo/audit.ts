/**
 * The demo's last step: `postern audit` of both endpoints of the embedded server (trusting the demo CA), with the
 * grade, what capped it and the findings that are not "ok", in a few lines.
 */
import { buildReport } from '../../audit/report.js';
import { auditPort } from '../../audit/run.js';
import type { Output } from '../output.js';
import type { EmbeddedServer } from './embedded-server.js';

/** Audits the STARTTLS and the implicit-TLS endpoint and prints one grade line (plus findings) for each. */
export async function auditEmbeddedServer(server: EmbeddedServer, output: Output): Promise<void> {
  const s = output.out;
  const endpoints = [
    ['STARTTLS', server.starttls, 'starttls'],
    ['implicit TLS', server.implicit, 'implicit'],
  ] as const;
  for (const [label, address, mode] of endpoints) {
    const result = await auditPort({
      host: address.host,
      port: address.port,
      mode,
      servername: server.hostname,
      ca: Buffer.from(server.ca),
    });
    const report = buildReport({ ...result, role: 'submission' });
    const protocols = Object.entries(report.protocols)
      .filter(([, offered]) => offered)
      .map(([name]) => name)
      .join(', ');
    const grade = report.grade.grade;
    const colour = grade.startsWith('A') ? s.green : grade === 'B' ? s.yellow : s.red;
    output.print(
      `  audit ${label.padEnd(12)} grade ${colour(s.bold(grade))}  ${s.dim(`${protocols}; ${(report.durationMs / 1000).toFixed(1)} s`)}`,
    );
    for (const f of report.findings.filter((x) => x.severity !== 'ok' && x.severity !== 'info')) {
      output.print(`    ${s.yellow(f.severity)} ${f.title}`);
    }
  }
  output.print(
    `  ${s.dim('the full report of a running server: postern audit HOST:PORT (see postern audit --help)')}`,
  );
}
