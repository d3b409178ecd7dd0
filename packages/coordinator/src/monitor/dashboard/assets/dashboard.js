// Orchard's dashboard: plain browser JavaScript, no build step, nothing loaded from elsewhere.
// Data comes from this server's JSON API and live streams (server-sent events); the shapes are
// the `orchard status --json` schema (packages/shared/src/monitor/status-schema.ts).

const app = document.getElementById("app");
const live = document.getElementById("live");
const toast = document.getElementById("toast");
const PALETTE = ["#2f6fde", "#2fa36b", "#d99a00", "#b04ad6", "#d6572f", "#1fa3b3", "#7a8a2f", "#d64596", "#5b6b8c", "#8c5b3a"];

// ---------- formatting (the terminal views' rules) ----------
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const count = (n) => Math.round(n).toLocaleString("en-US");
const tokRate = (n) => (n >= 10000 ? `${(n / 1000).toFixed(1)}k` : n >= 100 ? String(Math.round(n)) : n.toFixed(1));
const docRate = (n) => (n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
function duration(seconds) {
    if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "–";
    const s = Math.round(seconds);
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}
function clock(iso, seconds = false) {
    const d = new Date(iso);
    const time = d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", ...(seconds ? {second: "2-digit"} : {})});
    return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}
const ago = (seconds) => (seconds === null ? "never" : `${duration(seconds)} ago`);
function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
const pct = (part, whole) => (whole <= 0 ? 100 : (100 * part) / whole);

// ---------- plumbing ----------
/** Replaces an element's content only when it changed: buttons keep existing between updates, so clicks land. */
function setHtml(element, html) {
    if (element && element.dataset.html !== html) {
        element.innerHTML = html;
        element.dataset.html = html;
    }
}
function setLive(state, text) {
    live.dataset.state = state;
    live.textContent = text;
}
let toastTimer;
function showToast(message, level = "info") {
    toast.textContent = message;
    toast.className = `toast ${level}`;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.hidden = true), 7000);
}
function connect(url, handlers) {
    const source = new EventSource(url);
    source.onopen = () => setLive("live", "live");
    source.onerror = () => setLive("down", "reconnecting…");
    for (const [event, handler] of Object.entries(handlers)) source.addEventListener(event, (e) => handler(JSON.parse(e.data)));
    source.addEventListener("problem", (e) => setLive("down", `Redis: ${JSON.parse(e.data).message}`));
    return source;
}
async function act(url, confirmText) {
    if (confirmText && !window.confirm(confirmText)) return;
    try {
        const response = await fetch(url, {method: "POST", headers: {"X-Orchard-Action": "1"}, credentials: "same-origin"});
        const body = await response.json().catch(() => ({}));
        if (!response.ok) showToast(body.error?.message ?? `${response.status} ${response.statusText}`, "error");
        else showToast(body.message ?? "done");
    } catch (error) {
        showToast(String(error), "error");
    }
}

// ---------- pieces ----------
const statusBadge = (status) => `<span class="badge status-${esc(status)}" data-testid="run-status">${esc(status)}</span>`;
const healthBadge = (health) => `<span class="badge health-${esc(health)}" data-testid="run-health">${{ok: "healthy", warning: "warning", error: "failing"}[health] ?? esc(health)}</span>`;
function bar(merged, missing, total, big = false) {
    return `<div class="bar${big ? " big" : ""}"><div class="done" style="width:${pct(merged, total).toFixed(2)}%"></div>` +
        `<div class="missing" style="width:${pct(missing, total).toFixed(2)}%"></div></div>`;
}
const stateCell = (state) => `<span class="state state-${esc(state)}">${esc(state)}</span>`;

function chartSvg(series, workersInOrder) {
    const n = series.total.length;
    if (n === 0 || series.total.every((v) => v === 0)) return `<p class="muted">No completed shards yet.</p>`;
    const W = 720, H = 230, L = 52, R = 10, T = 10, B = 26;
    const max = niceMax(Math.max(...series.total));
    const x = (i) => L + ((W - L - R) * (n === 1 ? 0.5 : i / (n - 1)));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    let svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="tokens per second over time" data-testid="throughput-chart">`;
    for (let k = 0; k <= 4; k++) {
        const v = (max * k) / 4;
        svg += `<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${tokRate(v)}</text>`;
    }
    const span = n * series.bucketMs;
    const ticks = [...new Set([0, 1, 2, 3, 4].map((k) => Math.round(((n - 1) * k) / 4)))];
    for (const i of ticks) {
        const at = new Date(series.startMs + (i + 0.5) * series.bucketMs).toISOString();
        const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
        svg += `<text class="axis" x="${x(i)}" y="${H - 6}" text-anchor="${anchor}">${esc(clock(at, span < 3600_000))}</text>`;
    }
    const line = (values, color, width, opacity = 1) => `<polyline fill="none" stroke="${color}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round" ` +
        `points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`;
    // the total as a wide band underneath: where one worker does all the work its line runs inside it
    svg += line(series.total, "currentColor", 7, 0.18);
    series.workers.forEach((worker) => (svg += line(worker.tokensPerSecond, colorOf(worker.name, workersInOrder), 2)));
    svg += `</svg><div class="legend"><span><i style="background:currentColor;opacity:.3"></i>total</span>` +
        series.workers.map((w) => `<span><i style="background:${colorOf(w.name, workersInOrder)}"></i>${esc(w.name)}</span>`).join("") +
        `<span class="muted">tokens/s, ${duration(series.bucketMs / 1000)} steps</span></div>`;
    return svg;
}
function niceMax(value) {
    if (value <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= value) ?? 10 * power;
}
function colorOf(name, names) {
    const i = names.indexOf(name);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

// ---------- the fleet page ----------
function fleetPage() {
    document.title = "Orchard: runs";
    app.innerHTML = `<h1>Runs</h1><p class="sub" id="fleet-sub"></p><div class="runs" id="runs"></div>` +
        `<section class="card"><h2>Workers</h2><div class="table-wrap" id="fleet-workers"></div></section>`;
    connect("/api/events", {fleet: renderFleet});
}
function renderFleet(fleet) {
    setHtml(document.getElementById("fleet-sub"), `updated ${esc(clock(fleet.generatedAt, true))} · key prefix ${esc(fleet.keyPrefix)}`);
    setHtml(document.getElementById("runs"), fleet.runs.length === 0 ? `<p class="muted">No runs yet: start one with <code>orchard run</code>.</p>` : fleet.runs.map((run) =>
        `<a class="card run-card" href="/runs/${encodeURIComponent(run.runId)}" data-testid="run-card-${esc(run.runId)}">` +
        `<div class="row"><span class="id">${esc(run.name ?? run.runId)}</span><span>${statusBadge(run.status)} ${healthBadge(run.health)}</span></div>` +
        bar(run.documents.merged, run.documents.missing, run.documents.total) +
        `<div class="facts">${run.percent.toFixed(1)}% · ${count(run.documents.merged)}/${count(run.documents.total)} documents` +
        (run.status === "running" ? ` · ${tokRate(run.throughput.tokensPerSecond)} tok/s · ETA ${duration(run.eta.seconds)} · ${run.activeWorkers} workers` : "") +
        (run.shards.failed > 0 ? ` · <span class="code">${run.shards.failed} failed</span>` : "") + `<br>${esc(run.runId)} · ${esc(clock(run.createdAt))}</div></a>`).join(""));
    setHtml(document.getElementById("fleet-workers"), fleet.workers.length === 0 ? `<p class="muted">No worker heard from in the last hour.</p>` :
        `<table><thead><tr><th>Name</th><th>Host</th><th>Chip / backend</th><th>Memory</th><th>State</th><th class="num">Tok/s</th><th class="num">Engine tok/s</th><th class="num">Docs</th><th>Heartbeat</th><th>Shard</th></tr></thead><tbody>` +
        fleet.workers.map((w) => `<tr><td>${esc(w.name)}</td><td>${esc(w.host)}</td><td>${esc(w.chip)} / ${esc(w.backend)}</td><td>${bytes(w.memory.totalBytes)}</td><td>${w.paused ? `<span class="state state-paused" title="${esc(w.paused)}">paused: ${esc(w.paused)}</span>` : stateCell(w.state)}</td>` +
            `<td class="num">${tokRate(w.tokensPerSecond)}</td><td class="num">${w.engineTokensPerSecond === null ? "–" : tokRate(w.engineTokensPerSecond)}</td><td class="num">${count(w.totals.documents)}</td>` +
            `<td>${ago(w.heartbeatAgeSeconds)}</td><td>${w.current.map((s) => `<a href="/runs/${encodeURIComponent(s.runId)}">${esc(s.runId)}#${s.shard}</a>`).join(", ") || "–"}</td></tr>`).join("") +
        `</tbody></table>`);
}

// ---------- a run's page ----------
function runPage(runId) {
    document.title = `Orchard: ${runId}`;
    app.innerHTML = `
<div class="run-head"><div class="titles"><h1>${esc(runId)}</h1><div class="sub" id="run-sub"></div></div>
  <div id="badges"></div><div id="run-actions"></div></div>
<ul class="problems" id="problems"></ul>
<section class="card" id="progress"></section>
<section class="tiles" id="tiles"></section>
<section class="grid2"><div class="card chart"><h2>Throughput</h2><div id="chart"><p class="muted">Loading…</p></div></div>
  <div class="card"><h2>Documents per worker</h2><div id="bars"></div></div></section>
<section class="card"><h2>Workers</h2><div class="table-wrap" id="workers"></div></section>
<section class="card" id="numbers-card"><h2>Numbers: settings and machines</h2><div class="table-wrap" id="numbers"></div></section>
<section class="card" id="failed-card"><h2>Failed shards</h2><div class="table-wrap" id="failed"></div></section>
<section class="card" id="skipped-card" hidden><h2>Refused documents</h2><div class="table-wrap" id="skipped"></div></section>
<footer class="meta" id="meta"></footer>`;
    let workerOrder = [];
    app.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-action]");
        if (!button) return;
        const id = encodeURIComponent(runId);
        if (button.dataset.action === "retry") void act(`/api/runs/${id}/shards/${button.dataset.shard}/retry`);
        else if (button.dataset.action === "retry-all") void act(`/api/runs/${id}/retry-failed`);
        else if (button.dataset.action === "cancel") void act(`/api/runs/${id}/cancel`, `Cancel run ${runId}? Its queued shards are removed and its coordinator stops; the outputs keep what was merged.`);
    });
    connect(`/api/runs/${encodeURIComponent(runId)}/events`, {
        status: (run) => {
            workerOrder = run.workers.map((w) => w.name);
            renderRun(run);
        },
        throughput: (series) => setHtml(document.getElementById("chart"), chartSvg(series, workerOrder.length > 0 ? workerOrder : series.workers.map((w) => w.name))),
        notice: (notice) => showToast(notice.message, notice.level)
    });
}

function renderRun(run) {
    const byId = (id) => document.getElementById(id);
    setHtml(byId("run-sub"), `${esc(run.name ?? "")}${run.name ? " · " : ""}task ${esc(run.task ?? "reask")} · model ${esc(run.model.file)} · queue ${esc(run.queue.name)} · ${run.shardSize} documents per shard (fewer near the end) · created ${esc(clock(run.createdAt))}` +
        (run.finishedAt ? ` · finished ${esc(clock(run.finishedAt))}` : "") + ` · coordinator ${esc(run.coordinator)}`);
    setHtml(byId("badges"), `${statusBadge(run.status)} ${healthBadge(run.health)}`);
    setHtml(byId("run-actions"), run.status === "running" || run.status === "incomplete"
        ? `<button class="danger" data-action="cancel" data-testid="cancel-run">Cancel run</button>` : "");
    setHtml(byId("problems"), run.problems.map((p) => `<li class="${run.health === "error" ? "error" : ""}">${esc(p)}</li>`).join(""));

    const d = run.documents;
    setHtml(byId("progress"), `<div class="overall" data-testid="overall-progress" data-merged="${d.merged}" data-total="${d.total}">` +
        `<div class="headline"><span class="percent">${run.percent.toFixed(1)}%</span><span>${count(d.merged)} / ${count(d.total)} documents merged` +
        (d.missing > 0 ? ` · <span class="code">${count(d.missing)} missing</span>` : "") + (d.retrying > 0 ? ` · ${count(d.retrying)} retrying` : "") + `</span></div>` +
        bar(d.merged, d.missing, d.total, true) + `</div>` +
        (run.inputs.length > 1 ? run.inputs.map((input) => `<div class="progress-row"><span class="label" title="${esc(input.file)}">${esc(input.file)}</span>` +
            bar(input.merged, input.missing, input.documents) + `<span class="num">${input.percent.toFixed(1)}% · ${count(input.merged)}/${count(input.documents)}</span></div>`).join("") : ""));

    const tile = (k, v, bad = false, testid = "") => `<div class="tile"${testid ? ` data-testid="${testid}"` : ""}><div class="k">${k}</div><div class="v${bad ? " bad" : ""}">${v}</div></div>`;
    setHtml(byId("tiles"), [
        tile("Tokens / s", tokRate(run.throughput.tokensPerSecond), false, "tokens-per-second"),
        tile("Documents / s", docRate(run.throughput.documentsPerSecond)),
        tile("ETA", run.status === "completed" ? "done" : run.eta.seconds === null ? "–" : `${duration(run.eta.seconds)}<div class="sub">${esc(clock(run.eta.at))}</div>`),
        tile("Active workers", String(run.activeWorkers), run.status === "running" && run.activeWorkers === 0, "active-workers"),
        tile("Failed shards", String(run.shards.failed), run.shards.failed > 0, "failed-shards"),
        tile("Shards merged", `${count(run.shards.merged)} / ${count(run.shards.total)}`),
        tile("Tokens", count(run.throughput.tokens))
    ].join(""));

    const maxDocs = Math.max(1, ...run.workers.map((w) => w.documents));
    setHtml(byId("bars"), run.workers.length === 0 ? `<p class="muted">No worker yet.</p>` : run.workers.map((w, i) =>
        `<div class="wbar" data-testid="worker-bar-${esc(w.name)}"><span class="name" title="${esc(w.name)}">${esc(w.name)}</span>` +
        `<span class="track"><span class="fill" style="display:block;width:${pct(w.documents, maxDocs).toFixed(1)}%;background:${PALETTE[i % PALETTE.length]}"></span></span>` +
        `<span class="val">${count(w.documents)}</span></div>`).join(""));

    setHtml(byId("workers"), run.workers.length === 0 ? `<p class="muted">No worker has taken a shard of this run yet.</p>` :
        `<table><thead><tr><th>Name</th><th>Host</th><th>Chip / backend</th><th>State</th><th class="num">Documents</th><th class="num">Tok/s</th><th class="num">Failures</th><th>Heartbeat</th><th>Shard</th></tr></thead><tbody>` +
        run.workers.map((w) => `<tr data-testid="worker-row-${esc(w.name)}"><td>${esc(w.name)}</td><td>${esc(w.host ?? "?")}</td><td>${esc(w.chip ?? "?")} / ${esc(w.backend ?? "?")}</td>` +
            `<td>${stateCell(w.state)}</td><td class="num">${count(w.documents)}</td><td class="num">${tokRate(w.tokensPerSecond)}</td><td class="num">${w.failures}</td>` +
            `<td>${ago(w.heartbeatAgeSeconds)}</td><td>${w.currentShards.map((s) => `#${s}`).join(", ") || "–"}</td></tr>`).join("") + `</tbody></table>`);

    // the numerics every worker computes with, and the machines that computed the merged documents
    const n = run.numerics;
    const machines = run.machines ?? [];
    setHtml(byId("numbers"), (n ? `<p data-testid="numerics">batch ${n.batchSize} · ${esc(n.engineRoute)} · flash attention ${n.flashAttention ? "on" : "off"} · context ${n.contextSize}` + (n.prefixReuse ? ` · prefix reuse ${esc(n.prefixReuse)}` : "") +
        (n.recorded ? "" : ` <span class="muted">(a run made before numerics were recorded: today's defaults)</span>`) +
        (run.requires && (run.requires.backend || run.requires.chip) ? ` · requires ${esc([run.requires.backend, run.requires.chip && JSON.stringify(run.requires.chip)].filter(Boolean).join(", "))}` : "") + `</p>` : "") +
        (machines.length === 0 ? `<p class="muted">No shard merged yet.</p>` :
            `<table data-testid="machines"><thead><tr><th>Backend</th><th>Chip</th><th>Builds (node-llama-cpp / llama.cpp)</th><th class="num">Documents</th><th class="num">Shards</th></tr></thead><tbody>` +
            machines.map((m) => `<tr><td>${esc(m.backend)}</td><td>${esc(m.chip)}</td><td>${esc(m.builds.join(", ") || "–")}</td><td class="num">${count(m.documents)}</td><td class="num">${m.shards}</td></tr>`).join("") +
            `</tbody></table>` + (machines.length > 1 ? `<p class="code">This run mixes machines: their numbers differ in the last digits (orchard provenance, orchard verify).</p>` : "")));

    const failed = run.failedShards;
    const retryable = failed.filter((s) => !s.retrying).length;
    setHtml(byId("failed"), failed.length === 0 ? `<p class="muted" data-testid="no-failed-shards">None.</p>` :
        `<table><thead><tr><th></th><th>Shard</th><th>Error</th><th>Input</th><th>Documents</th><th class="num">Attempts</th><th>When</th></tr></thead><tbody>` +
        // the button comes first: on a phone the table scrolls sideways
        failed.map((s) => `<tr data-testid="failed-shard-${s.shard}">` + (s.retrying
            ? `<td><span class="state state-idle" data-testid="retrying-${s.shard}">retrying</span></td><td>#${s.shard}</td><td class="msg">queued for a retry</td>`
            : `<td><button class="primary" data-action="retry" data-shard="${s.shard}" data-testid="retry-shard-${s.shard}">Retry</button></td><td>#${s.shard}</td>` +
                `<td class="msg"><span class="code">[${esc(s.code)}]</span> ${esc(s.message)}</td>`) +
            `<td>${esc(s.file)}</td><td>${s.firstDocument}–${s.firstDocument + s.documents - 1}</td>` +
            (s.retrying ? `<td></td><td></td>` : `<td class="num">${s.attempts}</td><td>${esc(clock(s.at, true))}</td>`) + `</tr>`).join("") +
        `</tbody></table>` + (retryable > 1 ? `<p><button data-action="retry-all" data-testid="retry-all">Retry all ${retryable} failed shards</button></p>` : ""));

    const skippedCard = byId("skipped-card");
    skippedCard.hidden = run.skippedDocuments.count === 0;
    setHtml(byId("skipped"), run.skippedDocuments.count === 0 ? "" : `<p class="muted">${count(run.skippedDocuments.count)} documents refused by the workers` +
        `${Object.keys(run.skippedDocuments.byCode ?? {}).length === 0 ? "" : ` (${Object.entries(run.skippedDocuments.byCode).map(([code, n]) => `${esc(code)} ${count(n)}`).join(", ")})`}` +
        ` (first ${run.skippedDocuments.first.length}):</p>` +
        `<table><tbody>${run.skippedDocuments.first.map((doc) => `<tr><td>${esc(doc.file)}:${doc.line}</td><td>${esc(doc.id)}</td><td class="msg"><span class="code">[${esc(doc.code)}]</span> ${esc(doc.message)}</td></tr>`).join("")}</tbody></table>`);

    setHtml(byId("meta"), `queue ${esc(run.queue.name)}: ${run.queue.waiting} waiting, ${run.queue.active} active, ${run.queue.delayed} delayed, ${run.queue.failed} failed · ` +
        `<a href="/queues/">queue internals</a> · <a href="/api/runs/${encodeURIComponent(run.runId)}">JSON</a> · updated ${esc(clock(new Date().toISOString(), true))}`);
}

const match = /^\/runs\/([a-z0-9][a-z0-9-]*)\/?$/.exec(location.pathname);
if (match) runPage(match[1]);
else fleetPage();
