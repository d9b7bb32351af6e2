// The HTML report: one self-contained page, every server-supplied string escaped, nothing loaded from anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, renderDomainHtml, renderHtml } from '../../../src/audit/render-html.js';
import { buildReport } from '../../../src/audit/report.js';
import {
  dnsPolicy,
  domainReport,
  HOSTILE,
  hostileParts,
  mxParts,
  postfixDefaults,
} from './report-fixtures.js';

/** The markup outside text content: tag names and attribute names/values of every tag. */
function tags(html: string): string[] {
  return [...html.matchAll(/<([a-zA-Z!/][^>]*)>/g)].map((m) => m[1] ?? '');
}

test('hostile banner, EHLO, certificate names, replies and errors stay text', () => {
  const html = renderHtml(buildReport(hostileParts()));
  assert.ok(!/<script/i.test(html), 'no script element');
  assert.ok(!/<img/i.test(html), 'no injected image');
  for (const tag of tags(html)) assert.ok(!/\son[a-z]+=/i.test(tag), `event handler attribute in <${tag}>`);
  const escaped = escapeHtml(HOSTILE);
  assert.ok(html.includes(escaped), 'the hostile text appears, escaped');
  assert.ok(escaped.includes('&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;'));
  assert.ok(escaped.includes('&amp;amp;'), 'an entity in the input is shown, not decoded');
  // The only tags are the page's own.
  const names = new Set(tags(html).map((t) => t.replace(/^\//, '').split(/[\s>]/)[0]!.toLowerCase()));
  const allowed = new Set([
    '!doctype',
    'html',
    'head',
    'meta',
    'title',
    'style',
    'body',
    'div',
    'header',
    'h1',
    'h2',
    'h3',
    'p',
    'ul',
    'li',
    'b',
    'nav',
    'a',
    'section',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'span',
    'code',
    'strong',
    'dl',
    'dt',
    'dd',
    'pre',
    'br',
    'wbr',
    'footer',
  ]);
  assert.deepEqual(
    [...names].filter((n) => !allowed.has(n)),
    [],
  );
});

test('the page is self-contained: no external URL, script, font or image; a CSP forbids them anyway', () => {
  const html = renderHtml(buildReport(mxParts({ dns: dnsPolicy(), profile: 'old' })));
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/,
  );
  for (const tag of tags(html)) {
    assert.ok(!/\ssrc=/i.test(tag), `src attribute in <${tag}>`);
    const href = /\shref="([^"]*)"/.exec(tag)?.[1];
    if (href !== undefined) assert.match(href, /^#[a-z]+$/, `href ${href} is an in-page anchor`);
  }
  assert.ok(!/@import|url\(/i.test(html), 'no CSS that loads anything');
  assert.ok(!/<link/i.test(html));
});

test('grade badge, sections, findings with fixes and print styles are there', () => {
  const report = buildReport(postfixDefaults());
  const html = renderHtml(report);
  assert.match(html, /<div class="badge g-c" role="img" aria-label="Grade C">C<\/div>/);
  assert.match(html, /<title>Postern audit: mail\.example\.com:25 — grade C<\/title>/);
  for (const id of [
    'findings',
    'transport',
    'protocols',
    'kx',
    'features',
    'ciphers',
    'certificate',
    'smtp',
    'grade',
  ]) {
    assert.ok(html.includes(`<section id="${id}">`), `section ${id}`);
  }
  assert.equal(
    (html.match(/class="finding s-/g) ?? []).length,
    report.findings.filter((f) => f.severity !== 'ok').length,
  );
  assert.match(html, /<dt>Postfix<\/dt><dd><pre>smtpd_tls_exclude_ciphers = aNULL, eNULL<\/pre><\/dd>/);
  assert.match(html, /<span class="cap">caps at C<\/span>/);
  assert.match(html, /@media print\{/);
  assert.match(html, /Capped at C by Anonymous cipher suites/);
  assert.equal(html.includes('id="dns"'), false, 'no DNS section without --domain');
});

test('escapeHtml escapes the five characters that matter, and nothing else', () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
  assert.equal(escapeHtml('naïve ✓'), 'naïve ✓');
  assert.equal(escapeHtml(42), '42');
});

test('a domain page: the worst grade, a host table linking to each host, DNS once, unique ids', () => {
  const html = renderDomainHtml(domainReport());
  assert.match(html, /<title>Postern audit: example\.com — grade B<\/title>/);
  assert.match(html, /<a href="#h0-host">mail\.example\.com:25 \(192\.0\.2\.10\)<\/a>/);
  assert.match(html, /<div class="host" id="h1-host">/);
  assert.match(html, /backup\.example\.net:25.*unreachable/);
  assert.equal((html.match(/<section id="[^"]*dns">/g) ?? []).length, 1);
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const href of html.matchAll(/href="#([^"]+)"/g))
    assert.ok(ids.includes(href[1]), `anchor #${href[1]} exists`);
});
