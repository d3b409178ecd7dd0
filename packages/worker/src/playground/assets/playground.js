// The playground's page: no build step, nothing loaded from elsewhere. Every POST carries the
// action header (the server refuses actions without it) and a request id the queue reports on.
const $ = (id) => document.getElementById(id);
const ACTION = {"x-orchard-action": "1", "content-type": "application/json"};

let presets = [];
let names = [];

async function loadInfo() {
    const response = await fetch("/api/info");
    if (!response.ok) throw new Error(`info: HTTP ${response.status}`);
    const info = await response.json();
    $("model-info").textContent = `Model ${info.model} · backend ${info.backend} · context ${info.contextSize} tokens · ${info.route}`;
    presets = info.presets;
    names = info.attributeNames;
    const select = $("preset");
    for (const [index, preset] of presets.entries()) select.append(new Option(preset.name, String(index)));
    select.append(new Option("Custom", "custom"));
    select.addEventListener("change", () => applyPreset(select.value));
    applyPreset("0");
}

function applyPreset(value) {
    const preset = presets[Number(value)];
    if (preset === undefined) return;
    $("prompt-text").value = preset.promptText;
    $("trailing-instruction").value = preset.trailingInstruction;
}

function setStatus(text, isError = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", isError);
}

async function runReask(event) {
    event?.preventDefault();
    const button = $("run");
    if (button.disabled) return;
    const body = {promptText: $("prompt-text").value, trailingInstruction: $("trailing-instruction").value, document: $("document").value};
    if ($("doc-id").value.trim() !== "") body.id = $("doc-id").value.trim();
    if ($("doc-label").value.trim() !== "") body.label = Number($("doc-label").value);
    const requestId = crypto.randomUUID();
    button.disabled = true;
    const started = performance.now();
    setStatus("running…");
    // while the request waits its turn, show its place in the queue
    const poll = setInterval(async () => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        try {
            const queue = await (await fetch(`/api/queue?request=${encodeURIComponent(requestId)}`)).json();
            setStatus(queue.position > 0 ? `queued: ${queue.position} ahead · ${seconds} s` : `running… ${seconds} s`);
        } catch {
            setStatus(`running… ${seconds} s`);
        }
    }, 500);
    try {
        const response = await fetch("/api/reask", {method: "POST", headers: {...ACTION, "x-orchard-request-id": requestId}, body: JSON.stringify(body)});
        const answer = await response.json();
        if (!response.ok) throw new Error(answer.error?.message ?? `HTTP ${response.status}`);
        showResult(answer);
        const seconds = (performance.now() - started) / 1000;
        setStatus(`done in ${seconds.toFixed(2)} s (${(answer.tokens / seconds).toFixed(0)} tokens/s)`);
    } catch (error) {
        setStatus(error.message, true);
    } finally {
        clearInterval(poll);
        button.disabled = false;
    }
}

function showResult(result) {
    $("result").hidden = false;
    $("answer").textContent = result.answer;
    $("yes-probability").textContent = result.yesProbability.toFixed(4);
    $("token-count").textContent = String(result.tokens);
    $("cut-note").hidden = !result.documentCut;
    $("line").textContent = result.line;
    $("prompt").textContent = `<s>${result.prompt}`;
    const rows = result.attributes.map((value, index) => {
        const row = document.createElement("tr");
        row.dataset.index = String(index);
        row.dataset.value = String(value);
        for (const text of [String(index), names[index] ?? "", value.toFixed(6)]) {
            const cell = document.createElement("td");
            cell.textContent = text;
            row.append(cell);
        }
        return row;
    });
    $("attributes").tBodies[0].replaceChildren(...rows);
    $("copy-status").textContent = "";
}

async function copyLine() {
    const text = $("line").textContent;
    try {
        await navigator.clipboard.writeText(text);
    } catch {
        // no clipboard API (plain http beyond localhost): select the text for Ctrl+C
        const range = document.createRange();
        range.selectNodeContents($("line"));
        getSelection().removeAllRanges();
        getSelection().addRange(range);
    }
    $("copy-status").textContent = "copied";
}

$("reask-form").addEventListener("submit", runReask);
$("copy-line").addEventListener("click", copyLine);
document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) runReask(event);
});
$("prompt-text").addEventListener("input", () => void ($("preset").value = "custom"));
$("trailing-instruction").addEventListener("input", () => void ($("preset").value = "custom"));
loadInfo().catch((error) => setStatus(error.message, true));
