/**
 * AUDIT HOOK — the place where the demo will print the security audit's grade of its embedded server.
 *
 * The audit (src/audit, `postern audit`) has not landed yet. When it does, this function runs it against both
 * endpoints of the embedded server (trusting the demo CA) and prints the grade and its findings in a few lines.
 * Until then it says that the audit is not in this build; it never prints a made-up grade.
 */
import type { Output } from '../output.js';
import type { EmbeddedServer } from './embedded-server.js';

/** What the summary shows for the audit. */
export function auditEmbeddedServer(_server: EmbeddedServer, output: Output): void {
  // TODO(audit): run the audit on _server.starttls and _server.implicit with { ca: _server.ca }; print its grade.
  output.print(
    `  ${output.out.dim('audit grade: not available in this build (the security audit has not landed yet)')}`,
  );
}
