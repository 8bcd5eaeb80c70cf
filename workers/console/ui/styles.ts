// The dashboard's whole stylesheet, inlined into every page (no CDN, works offline). A constant:
// it is the only markup rendered unescaped, and it never contains data.

export const CSS = `
*{box-sizing:border-box}
:root{--ink:#1d2433;--muted:#667085;--line:#e4e7ec;--bg:#f6f7f9;--card:#fff;--accent:#4f46e5;
--red:#d92d20;--red-bg:#fef3f2;--green:#067647;--green-bg:#ecfdf3;--amber:#b54708;--amber-bg:#fffaeb;
--blue:#175cd3;--blue-bg:#eff8ff;--gray-bg:#f2f4f7;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:var(--mono);font-size:12.5px}
header.top{background:#161b2e;color:#fff;display:flex;align-items:center;gap:18px;padding:0 24px;height:52px}
header.top a{color:#cdd3e6}header.top .brand{color:#fff;font-weight:700;font-size:17px;display:flex;gap:8px;align-items:center}
header.top .spacer{flex:1}header.top form{margin:0}
header.top button{background:none;border:1px solid #3b4263;color:#cdd3e6;border-radius:6px;padding:4px 10px;cursor:pointer}
main{max-width:1240px;margin:0 auto;padding:20px 24px 60px}
.crumbs{color:var(--muted);font-size:13px;margin-bottom:4px}.crumbs a{color:var(--muted)}
h1{font-size:22px;margin:0 0 4px;word-break:break-word}h2{font-size:16px;margin:0 0 12px}h3{font-size:14px;margin:14px 0 6px}
.sub{color:var(--muted);margin:0 0 16px}
nav.tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:14px 0 18px;flex-wrap:wrap;align-items:flex-end}
nav.tabs a{padding:8px 12px;color:var(--muted);border-bottom:2px solid transparent;margin-bottom:-1px}
nav.tabs a.on{color:var(--ink);border-color:var(--accent);font-weight:600}
nav.tabs form{margin-left:auto;padding-bottom:6px;display:flex;gap:6px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin-bottom:16px}
.grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(320px,1fr))}
.snips{grid-template-columns:repeat(auto-fit,minmax(480px,1fr))}
.stats{display:flex;gap:28px;flex-wrap:wrap}.stat b{display:block;font-size:22px}.stat span{color:var(--muted);font-size:12px}
table{width:100%;border-collapse:collapse}th{text-align:left;font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
th,td{padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv td:first-child{color:var(--muted);width:190px;word-break:break-all}table.kv td{word-break:break-word}
.issue-title{font-weight:600;color:var(--ink);word-break:break-word}.issue-msg{color:var(--muted);word-break:break-word}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.b-active{background:var(--red-bg);color:var(--red)}.b-resolved{background:var(--green-bg);color:var(--green)}
.b-ignored{background:var(--gray-bg);color:var(--muted)}.b-regressed{background:var(--amber-bg);color:var(--amber)}
.l-fatal{background:#7a271a;color:#fff}.l-error{background:var(--red-bg);color:var(--red)}
.l-warning{background:var(--amber-bg);color:var(--amber)}.l-info{background:var(--blue-bg);color:var(--blue)}.l-debug{background:var(--gray-bg);color:var(--muted)}
.pre{white-space:pre-wrap}.muted{color:var(--muted)}.small{font-size:12px}.nowrap{white-space:nowrap}
button,.btn{font:inherit;font-size:13px;border:1px solid var(--line);background:#fff;color:var(--ink);border-radius:6px;padding:5px 12px;cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button:hover{filter:brightness(.96)}
form.inline{display:inline}.card form{margin:0}.actions{display:flex;gap:6px;flex-wrap:wrap;align-items:center}
input[type=text],input[type=password],input[type=search]{font:inherit;border:1px solid var(--line);border-radius:6px;padding:6px 10px;min-width:240px}
.filters a{margin-right:10px;color:var(--muted)}.filters a.on{color:var(--ink);font-weight:600}
pre.code{background:#0f1424;color:#e6e9f2;padding:12px 14px;border-radius:8px;overflow:auto;margin:6px 0 0;white-space:pre}
.snip{position:relative}.snip button{position:absolute;top:6px;right:6px;font-size:11px;padding:2px 8px}
details>summary{cursor:pointer;color:var(--accent)}
.exc-head{font-size:15px;margin-bottom:8px;word-break:break-word}.exc-head b{color:var(--red)}
.frames{border:1px solid var(--line);border-radius:8px;overflow:hidden}
.frame{padding:6px 12px;border-bottom:1px solid var(--line);font-family:var(--mono);font-size:12.5px;word-break:break-all}
.frame:last-child{border-bottom:0}.frame.app{background:#fff;border-left:3px solid var(--accent)}
.frame.lib{background:#fafbfc;color:#98a2b3;border-left:3px solid transparent}
.frame.top{background:#eef0ff}.frame .fn{font-weight:600}.frame.lib .fn{font-weight:400}
.frame .ctx{display:block;color:#475467;margin-top:2px;white-space:pre-wrap}
.tag{display:inline-block;border:1px solid var(--line);border-radius:6px;padding:1px 8px;margin:0 6px 6px 0;font-size:12px;background:#fff}
.tag span{color:var(--muted)}
.empty{color:var(--muted);text-align:center;padding:28px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin-top:8px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.bar{height:8px;border-radius:4px;background:var(--gray-bg);overflow:hidden;min-width:80px}.bar i{display:block;height:100%;background:var(--accent)}
.login{max-width:380px;margin:10vh auto}.login input{width:100%;margin:8px 0 12px}
.err{background:var(--red-bg);color:var(--red);padding:8px 12px;border-radius:6px;margin-bottom:12px}
.ok{background:var(--green-bg);color:var(--green);padding:8px 12px;border-radius:6px;margin-bottom:12px}
svg text{font-family:system-ui,sans-serif}
`;

/** Copy buttons: `<button data-copy="element-id">` copies that element's text. Served as /ui/app.js. */
export const SCRIPT = `document.addEventListener("click",function(e){var b=e.target.closest&&e.target.closest("[data-copy]");
if(!b)return;var el=document.getElementById(b.getAttribute("data-copy"));if(!el||!navigator.clipboard)return;
navigator.clipboard.writeText(el.textContent).then(function(){b.textContent="Copied";setTimeout(function(){b.textContent="Copy"},1500)})});`;
