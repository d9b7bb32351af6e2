/**
 * The grade, A+ … F, from the findings alone: the worst cap of any finding wins, starting from A; A+ is A plus
 * the best practices that no finding caps. The rules and their reasons are in docs/audit-grading.md.
 */
import { type Finding, GRADES, type Grade } from './types.js';

export interface CapReason {
  readonly id: string;
  readonly cap: Grade;
  readonly title: string;
}

export interface GradeResult {
  readonly grade: Grade;
  /** Every finding that caps the grade, worst cap first; the first one(s) decided it. */
  readonly capReasons: readonly CapReason[];
  /** What stands between an A and an A+ (empty when the grade is A+ or below A). */
  readonly missingForAPlus: readonly string[];
}

export interface GradeOptions {
  /** The audit covered a mail domain (--domain): A+ then also needs MTA-STS enforce or DANE. */
  readonly domain?: boolean | undefined;
}

const WARNING = new Set(['critical', 'high', 'medium', 'low']);

/** The worse of two grades. */
export function worseGrade(a: Grade, b: Grade): Grade {
  return GRADES.indexOf(a) >= GRADES.indexOf(b) ? a : b;
}

/** What an A still lacks to be an A+. */
function aPlusGaps(findings: readonly Finding[], options: GradeOptions): string[] {
  const has = (id: string) => findings.some((f) => f.id === id);
  const gaps: string[] = [];
  // "Not offered" only when a TLS 1.3 hello was refused; a version that got no answer was not tested.
  if (!has('tls.protocol.tls13')) {
    gaps.push(has('tls.protocol.no-tls13') ? 'TLS 1.3 is not offered' : 'TLS 1.3 was not tested');
  }
  if (!has('tls.cipher.strong')) gaps.push('not every cipher suite is forward-secret AEAD');
  const warnings = findings.filter((f) => WARNING.has(f.severity));
  if (warnings.length > 0) gaps.push(`warnings: ${warnings.map((f) => f.id).join(', ')}`);
  if (options.domain && !has('dns.mta-sts.enforce') && !has('dns.dane.valid')) {
    gaps.push('neither MTA-STS in enforce mode nor DANE authenticates the MX');
  }
  return gaps;
}

/**
 * Grades a target from its findings.
 *
 * @example gradeFindings(deriveFindings(input)).grade // => 'B' when TLS 1.0 is offered
 */
export function gradeFindings(findings: readonly Finding[], options: GradeOptions = {}): GradeResult {
  const capReasons = findings
    .filter((f): f is Finding & { cap: Grade } => f.cap !== undefined)
    .map((f) => ({ id: f.id, cap: f.cap, title: f.title }))
    .sort((a, b) => GRADES.indexOf(b.cap) - GRADES.indexOf(a.cap));
  const grade = capReasons.reduce<Grade>((g, r) => worseGrade(g, r.cap), 'A');
  if (grade !== 'A') return { grade, capReasons, missingForAPlus: [] };
  const gaps = aPlusGaps(findings, options);
  return gaps.length === 0
    ? { grade: 'A+', capReasons, missingForAPlus: [] }
    : { grade: 'A', capReasons, missingForAPlus: gaps };
}
