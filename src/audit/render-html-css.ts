/**
 * The stylesheet of the HTML audit report: inline in the page (no external resource), system fonts, colours
 * that survive printing, and a print layout without the screen decoration.
 */
export const CSS = `
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--card:#fff;--bg:#eef1f4;
--ok:#1a7f37;--ok-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--bad:#cf222e;--bad-bg:#ffebe9;--info:#0969da;--info-bg:#ddf4ff}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI","DejaVu Sans",Roboto,"Helvetica Neue",Arial,sans-serif}
code,.mono{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
.wrap{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
header.hero{display:flex;gap:28px;align-items:center;background:linear-gradient(135deg,#0d1b2a,#1b3a5c);color:#fff;border-radius:14px;padding:26px 30px;box-shadow:0 6px 24px rgba(13,27,42,.25)}
.badge{flex:none;width:118px;height:118px;border-radius:22px;display:flex;align-items:center;justify-content:center;font-size:60px;font-weight:800;letter-spacing:-2px;color:#fff;box-shadow:inset 0 -6px 0 rgba(0,0,0,.15)}
.g-a{background:#1a7f37}.g-am{background:#4d8c1f}.g-b{background:#b08800}.g-c{background:#d1650f}.g-d{background:#c93c1f}.g-f{background:#b3121b}
.hero h1{margin:0;font-size:26px;font-weight:700;word-break:break-all}
.hero .sub{margin:4px 0 10px;color:#b6c6d8;font-size:14px}
.hero .why{margin:0 0 12px;color:#e6edf5;font-size:14px}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}
.counts li{padding:3px 10px;border-radius:999px;font-size:13px;font-weight:600;background:rgba(255,255,255,.12);color:#fff}
.counts li b{font-size:14px}
.counts .n-critical{background:#b3121b}.counts .n-high{background:#cf222e}.counts .n-medium{background:#d1650f}.counts .n-low{background:#b08800}.counts .n-info{background:#0969da}.counts .n-ok{background:#1a7f37}
nav.toc{margin:16px 2px 0;font-size:13px;color:var(--muted)}
section a{color:var(--info)}
nav.toc a{color:var(--info);text-decoration:none;margin-right:14px}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;margin-top:18px;padding:18px 22px;box-shadow:0 1px 3px rgba(31,35,40,.06)}
section h2{margin:0 0 12px;font-size:18px;display:flex;align-items:center;gap:10px}
section h3{margin:18px 0 8px;font-size:15px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 28px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft);font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}
table.kv th{width:34%;text-transform:none;letter-spacing:0;font-size:13.5px;background:none;color:var(--muted);font-weight:500}
td{word-break:break-word}
tr:last-child td,tr:last-child th{border-bottom:none}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12.5px;font-weight:600;white-space:nowrap}
.p-ok{background:var(--ok-bg);color:var(--ok)}.p-warn{background:var(--warn-bg);color:var(--warn)}
.p-bad{background:var(--bad-bg);color:var(--bad)}.p-dim{background:var(--soft);color:var(--muted)}.p-info{background:var(--info-bg);color:var(--info)}
.tags .pill{margin:0 4px 2px 0}
.muted{color:var(--muted)}
.finding{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:10px;padding:12px 16px;margin:12px 0;break-inside:avoid}
.finding.s-critical{border-left-color:#b3121b}.finding.s-high{border-left-color:#cf222e}.finding.s-medium{border-left-color:#d1650f}
.finding.s-low{border-left-color:#b08800}.finding.s-info{border-left-color:#0969da}
.finding .head{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px 10px}
.finding .title{font-weight:700;font-size:15.5px}
.finding .id{color:var(--muted);font-size:12px;margin-left:auto}
.finding p{margin:6px 0}
.sev{font-size:11.5px;font-weight:800;letter-spacing:.05em;text-transform:uppercase;padding:2px 8px;border-radius:6px;color:#fff}
.sev-critical{background:#b3121b}.sev-high{background:#cf222e}.sev-medium{background:#d1650f}.sev-low{background:#b08800}.sev-info{background:#0969da}.sev-ok{background:#1a7f37}
.cap{font-size:12px;font-weight:700;color:var(--bad);border:1px solid currentColor;border-radius:6px;padding:0 6px}
.fix{background:var(--soft);border-radius:8px;padding:10px 12px;margin-top:8px}
.fix .summary{margin:0 0 6px}
.fix dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
.fix dt{font-weight:600;color:var(--muted);font-size:13px}
.fix dd{margin:0}
.fix pre{margin:0;white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px;background:#fff;border:1px solid var(--line);border-radius:6px;padding:6px 8px}
ul.oks{list-style:none;margin:8px 0 0;padding:0;columns:2 340px;column-gap:28px}
ul.oks li{padding:3px 0 3px 24px;position:relative;break-inside:avoid}
ul.oks li::before{content:"✓";position:absolute;left:4px;color:var(--ok);font-weight:800}
.suites td:not(:first-child){white-space:nowrap}
td.suite{word-break:normal;overflow-wrap:normal}
.suite{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
table.kv th{white-space:nowrap}
.grid table.kv th{width:auto}
.chip{display:inline-block;min-width:34px;text-align:center;padding:1px 8px;border-radius:7px;color:#fff;font-weight:800}
.host{margin-top:34px;padding-top:8px;border-top:3px solid var(--line)}
.host-head{display:flex;gap:22px;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:18px 22px}
.host-head .badge{width:84px;height:84px;font-size:42px;border-radius:18px}
.host-head h2{margin:0;font-size:21px;word-break:break-all}
.host-head .sub{margin:2px 0 6px;color:var(--muted);font-size:13.5px}
.host-head .why{margin:0}
.host-head nav.toc{margin:6px 0 0}
footer{margin-top:22px;color:var(--muted);font-size:12.5px;text-align:center}
@media print{
 @page{margin:14mm}
 body{background:#fff;font-size:9.5pt}
 header.hero{padding:14px 18px;gap:18px}
 .badge{width:78px;height:78px;font-size:40px;border-radius:14px}
 .hero h1{font-size:18pt}
 section{padding:10px 14px;margin-top:10px;border-radius:8px}
 .suite,.fix pre,code{font-size:7.5pt}
 .finding{padding:8px 10px;margin:8px 0}
 th,td{padding:4px 6px}
 .wrap{max-width:none;padding:0}
 header.hero{background:#fff;color:var(--ink);border:2px solid var(--ink);box-shadow:none}
 .host{break-before:page;border-top:none}
 .hero .sub,.hero .why{color:var(--muted)}
 section{box-shadow:none;break-inside:auto}
 nav.toc{display:none}
 h2,h3{break-after:avoid}
 tr,.finding{break-inside:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;
