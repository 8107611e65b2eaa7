/**
 * The dev dashboard (`GET /`): the server, its tools with their schemas, its
 * resources and prompts, the files that failed to load with their errors, and
 * the recent calls with input, output and console lines. One server-rendered
 * page; it reloads itself when a call or a reload changes what it shows.
 */
import type { DevCall } from "./callHistory.ts";
import type { DevFolder } from "./folder.ts";
import { where } from "./sourcePosition.ts";

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (v: unknown) => esc(v === undefined ? "—" : JSON.stringify(v, null, 2));

/** The page's HTML. */
export function dashboardPage(f: DevFolder, calls: readonly DevCall[], status: { endpoint: string; calls: number; sessions: number }): string {
  const m = f.manifest;
  const tools = f.tools
    .map(
      (t) => `<article class="tool" id="tool-${esc(t.name)}"><h3>${esc(t.name)}</h3><p>${esc(t.listing.description ?? "")}</p><p class="file">${esc(t.rel)}</p>
<details><summary>input schema</summary><pre>${pretty(t.listing.inputSchema)}</pre></details>${t.outputSchema ? `<details><summary>output schema</summary><pre>${pretty(t.outputSchema)}</pre></details>` : ""}</article>`,
    )
    .join("\n");
  const resources = f.resources.map((r) => `<li><code>${esc(r.uri)}</code> ${esc(r.mimeType)} <span class="file">${esc(r.rel)}</span></li>`).join("\n");
  const prompts = f.prompts
    .map((p) => `<li><code>${esc(p.name)}</code> ${esc(p.description ?? "")}${p.arguments.length ? ` — arguments: ${p.arguments.map((a) => esc(a.name) + (a.required ? "*" : "")).join(", ")}` : ""}</li>`)
    .join("\n");
  const broken = f.broken.map((b) => `<li class="broken"><code>${esc(where(b.file, b))}</code> (${esc(b.kind)}): ${esc(b.message)}</li>`).join("\n");
  const rows = calls
    .map(
      (c) => `<tr class="${esc(c.status)}"><td>${esc(c.at.slice(11, 23))}</td><td>${esc(c.tool)}</td><td>${esc(c.status)}</td><td>${esc(c.durationMs)} ms</td>
<td><pre>${pretty(c.input)}</pre></td><td><pre>${c.error ? esc(c.error) : pretty(c.output)}</pre></td><td><pre>${esc(c.logs.map((l) => `[${l.level}] ${l.message}`).join("\n"))}</pre></td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(m.name)} — dzx dev</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d232a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9d1d9}
main{padding:16px 24px;display:grid;gap:20px}section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 16px}
h2{margin:0 0 8px;font-size:16px}h3{margin:0;font-size:15px}.tool{border-top:1px solid #eef0f3;padding:8px 0}.file{color:#68707a;font-size:12px}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-size:12px;max-height:240px;overflow:auto}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #eef0f3;padding:4px 6px;vertical-align:top;text-align:left}
tr.error td:nth-child(3){color:#b42318}tr.ok td:nth-child(3){color:#067647}.broken{color:#b42318}code{background:#eef0f3;padding:0 3px;border-radius:3px}
</style></head><body>
<header><h1>${esc(m.name)} <small>${esc(m.version)}</small></h1><p>${esc(m.description ?? "")}</p>
<p>MCP endpoint <code id="endpoint">${esc(status.endpoint)}</code> · ${status.sessions} sessions · ${status.calls} calls</p></header>
<main>
${f.broken.length ? `<section id="broken"><h2>Broken files (${f.broken.length})</h2><ul>${broken}</ul></section>` : ""}
<section id="tools"><h2>Tools (${f.tools.length})</h2>${tools || "<p>No tools yet: add tools/&lt;name&gt;.ts</p>"}</section>
<section id="resources"><h2>Resources (${f.resources.length})</h2><ul>${resources}</ul></section>
<section id="prompts"><h2>Prompts (${f.prompts.length})</h2><ul>${prompts}</ul></section>
<section id="calls"><h2>Recent calls</h2><table><thead><tr><th>time</th><th>tool</th><th>status</th><th>took</th><th>input</th><th>output</th><th>logs</th></tr></thead><tbody>${rows}</tbody></table></section>
</main>
<script>
// reload when a call or a reload changed what the page shows
let seen = null;
setInterval(async () => {
  try {
    const s = await (await fetch("/status")).json();
    const key = [s.calls, s.tools, s.resources, s.prompts, s.broken].join(",");
    if (seen !== null && key !== seen) location.reload();
    seen = key;
  } catch {}
}, 1500);
</script>
</body></html>`;
}
