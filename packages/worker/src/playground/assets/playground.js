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
    loadRuns().catch((error) => void ($("runs-note").textContent = `Runs: ${error.message}`));
}

/** Prompts of the fleet's recent runs (GET /api/runs): untrusted text, shown through Option text and textContent only. */
async function loadRuns() {
    const response = await fetch("/api/runs");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const answer = await response.json();
    const select = $("preset");
    const custom = select.querySelector('option[value="custom"]');
    const notes = [];
    for (const run of answer.runs) {
        const index = presets.length;
        presets.push({name: String(run.name ?? run.runId), promptText: String(run.promptText), trailingInstruction: String(run.trailingInstruction)});
        const option = new Option(`Run ${run.name ?? run.runId} (${run.status})`, String(index));
        if (run.useJsonPrompt) {
            option.disabled = true;
            option.text += " — JSON prompt per document";
            notes.push(`run ${run.name ?? run.runId} prompts each document with its own JSON prompt, so it has no single prompt to use here`);
        }
        select.insertBefore(option, custom);
    }
    const reason = answer.reason === null ? "" : `Runs: ${answer.reason}. `;
    $("runs-note").textContent = reason + (notes.length === 0 ? "" : `Disabled: ${notes.join("; ")}.`);
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
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if ($("chat-mode").hidden) runReask(event);
    else sendChat(event);
});
$("prompt-text").addEventListener("input", () => void ($("preset").value = "custom"));
$("trailing-instruction").addEventListener("input", () => void ($("preset").value = "custom"));
loadInfo().catch((error) => setStatus(error.message, true));

// ---- chat mode: the conversation lives in the page; each turn sends it whole and reads the answer as it streams
const history = [];
let stopper;

function showMode(mode) {
    $("tab-reask").setAttribute("aria-selected", String(mode === "reask"));
    $("tab-chat").setAttribute("aria-selected", String(mode === "chat"));
    $("chat-mode").hidden = mode !== "chat";
    $("reask-form").hidden = mode !== "reask";
    $("result").hidden = mode !== "reask" || $("line").textContent === "";
}

function appendMessage(role, text) {
    const element = document.createElement("div");
    element.className = `message ${role}`;
    element.dataset.role = role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : "Mixtral";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    element.append(who, body);
    $("chat-log").append(element);
    return body;
}

function chatNote(text, isError = false) {
    $("chat-note").hidden = text === "";
    $("chat-note").textContent = text;
    $("chat-note").classList.toggle("error", isError);
}

function chatSettings() {
    const number = (id) => Number($(id).value);
    const settings = {maxTokens: number("max-tokens"), temperature: number("temperature"), topP: number("top-p"), topK: number("top-k"),
        repetitionPenalty: number("repetition-penalty"), seed: number("seed")};
    if ($("tools").checked) settings.tools = true;
    const schema = $("json-schema").value.trim();
    if (schema !== "") {
        try {
            settings.jsonSchema = JSON.parse(schema);
        } catch (error) {
            throw new Error(`the JSON schema is not JSON: ${error.message}`);
        }
    }
    return settings;
}

async function sendChat(event) {
    event?.preventDefault();
    if (stopper !== undefined) return;
    const text = $("chat-input").value;
    if (text.trim() === "") return;
    let settings;
    try {
        settings = chatSettings();
    } catch (error) {
        chatNote(error.message, true);
        return;
    }
    chatNote("");
    history.push({role: "user", text});
    const question = appendMessage("user", text);
    $("chat-input").value = "";
    const answer = appendMessage("assistant", "");
    const requestId = crypto.randomUUID();
    stopper = new AbortController();
    $("chat-send").disabled = true;
    $("chat-stop").disabled = false;
    const started = performance.now();
    let chunks = 0;
    let finished;
    const status = (prefix) => {
        const seconds = (performance.now() - started) / 1000;
        $("chat-status").textContent = `${prefix} ${chunks} tokens · ${seconds > 0 ? (chunks / seconds).toFixed(1) : "0"} tokens/s`;
    };
    const poll = setInterval(async () => {
        if (chunks > 0) return status("generating…");
        try {
            const queue = await (await fetch(`/api/queue?request=${encodeURIComponent(requestId)}`)).json();
            $("chat-status").textContent = queue.position > 0 ? `queued: ${queue.position} ahead` : "starting…";
        } catch {
            // the status line is only a courtesy
        }
    }, 500);
    try {
        const response = await fetch("/api/chat", {method: "POST", headers: {...ACTION, "x-orchard-request-id": requestId},
            body: JSON.stringify({messages: history, ...settings}), signal: stopper.signal});
        if (!response.ok) {
            const error = await response.json();
            throw Object.assign(new Error(error.error?.message ?? `HTTP ${response.status}`), {code: error.error?.code});
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
            const {value, done} = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, {stream: true});
            let newline;
            while ((newline = buffer.indexOf("\n")) >= 0) {
                const event = JSON.parse(buffer.slice(0, newline));
                buffer = buffer.slice(newline + 1);
                if (event.type === "text") {
                    chunks++;
                    answer.textContent += event.text;
                    status("generating…");
                } else if (event.type === "tool") {
                    const call = appendMessage("tool", `${event.name}(${JSON.stringify(event.params)}) → ${event.result}`);
                    call.parentElement.querySelector(".who").textContent = "Tool";
                    $("chat-log").append(answer.parentElement);
                } else if (event.type === "done") finished = event;
                else if (event.type === "error") throw Object.assign(new Error(event.message), {code: event.code});
            }
        }
    } catch (error) {
        if (error.name === "AbortError") finished = {finish: "aborted"};
        else {
            if (error.code === "CONTEXT_FULL") chatNote(`The context is full: ${error.message}`, true);
            else chatNote(error.message, true);
            // the failed turn leaves the history as it was before it
            history.pop();
            for (const element of [...$("chat-log").children]) if (element.compareDocumentPosition(question.parentElement) & Node.DOCUMENT_POSITION_PRECEDING) element.remove();
            question.parentElement.remove();
            $("chat-input").value = text;
        }
    } finally {
        clearInterval(poll);
        stopper = undefined;
        $("chat-send").disabled = false;
        $("chat-stop").disabled = true;
    }
    if (finished !== undefined) {
        history.push({role: "assistant", text: answer.textContent});
        answer.parentElement.dataset.finish = finished.finish;
        status(finished.finish === "aborted" ? "stopped:" : "done:");
        if (finished.finish === "context-full") chatNote("The context is full: the answer was cut where the context ends. Clear the history to go on.", true);
        else if (finished.finish === "length" && settings.jsonSchema !== undefined) chatNote("The answer reached the max new tokens before its JSON closed: raise Max new tokens.", true);
        else if (finished.finish === "length") chatNote("The answer reached the max new tokens.");
    }
}

$("tab-reask").addEventListener("click", () => showMode("reask"));
$("tab-chat").addEventListener("click", () => showMode("chat"));
$("chat-form").addEventListener("submit", sendChat);
$("chat-stop").addEventListener("click", () => stopper?.abort());
$("chat-clear").addEventListener("click", () => {
    stopper?.abort();
    history.length = 0;
    $("chat-log").replaceChildren();
    chatNote("");
    $("chat-status").textContent = "";
});
