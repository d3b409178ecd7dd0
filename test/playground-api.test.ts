import assert from "node:assert/strict";
import {readFile} from "node:fs/promises";
import {request} from "node:http";
import {join} from "node:path";
import {after, before, describe, it} from "node:test";
import {FAST_ENGINE_FLAGS, removeTempDir, runOrchard, sampleInput, tempDir, tinyModel} from "./support/orchard-cli.ts";
import {OrchardProcess} from "./support/orchard-process.ts";

const TOKEN = "playground-token-0123456789abcdef";
/** The same engine settings for extract and the playground, so their numbers can be compared bit for bit. */
const ENGINE = [...FAST_ENGINE_FLAGS, "--contexts", "1"];
const PROMPT = {promptText: "Please classify the sentiment of the following review. Review:", trailingInstruction: "Does the review express a positive sentiment?"};

interface Answer {
    readonly status: number;
    readonly headers: Record<string, string | string[] | undefined>;
    readonly body: string;
}

/** One HTTP request with exactly these headers and body (fetch would add an Origin of its own choosing). */
function send(base: string, path: string, options: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<Answer> {
    const {hostname, port} = new URL(base);
    return new Promise((resolve, reject) => {
        const req = request({hostname, port, path, method: options.method ?? "GET", headers: options.headers ?? {}}, (response) => {
            let body = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({status: response.statusCode ?? 0, headers: response.headers, body}));
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

const ACTION = {"x-orchard-action": "1", "content-type": "application/json"};
const reask = (base: string, body: unknown, headers: Record<string, string> = ACTION) =>
    send(base, "/api/reask", {method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body)});
const errorOf = (answer: Answer) => (JSON.parse(answer.body) as {error: {code: string; message: string; details?: {tokens: number; contextSize: number}}}).error;

/** POST /api/chat; resolves with the status and the NDJSON events (or the error body); `abortAfterText` drops the connection after that many text events. */
function chat(base: string, body: unknown, options: {abortAfterText?: number} = {}): Promise<{status: number; events: {type: string; text?: string; finish?: string; json?: unknown; code?: string}[]; body: string}> {
    const {hostname, port} = new URL(base);
    return new Promise((resolve, reject) => {
        const req = request({hostname, port, path: "/api/chat", method: "POST", headers: ACTION}, (response) => {
            let text = "";
            const events = () => text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as {type: string});
            response.setEncoding("utf8").on("data", (chunk: string) => {
                text += chunk;
                if (options.abortAfterText !== undefined && response.statusCode === 200 && events().filter((event) => event.type === "text").length >= options.abortAfterText) {
                    req.destroy();
                    resolve({status: 200, events: events(), body: text});
                }
            }).on("end", () => resolve({status: response.statusCode ?? 0, events: response.statusCode === 200 ? events() : [], body: text}));
        });
        req.on("error", (error) => (options.abortAfterText === undefined ? reject(error) : undefined));
        req.end(JSON.stringify(body));
    });
}

async function startPlayground(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{process: OrchardProcess; url: string}> {
    const child = OrchardProcess.start(["playground", "--model", await tinyModel(), "--port", "0", ...ENGINE, ...args], {env});
    const match = await child.waitFor(/Playground: (http:\/\/\S+?)\/(\s|$)/);
    return {process: child, url: match[1] as string};
}

describe("orchard playground: the re-ask API", () => {
    let open: {process: OrchardProcess; url: string};
    let guarded: {process: OrchardProcess; url: string};
    before(async () => {
        [open, guarded] = await Promise.all([startPlayground([]), startPlayground(["--host", "127.0.0.1"], {ORCHARD_PLAYGROUND_TOKEN: TOKEN})]);
    });
    after(async () => {
        await Promise.all([open?.process.stop(), guarded?.process.stop()]);
    });

    it("gives exactly the attributes and the line that orchard extract --drop-prompt writes, queued requests included", {timeout: 300_000}, async () => {
        const dir = await tempDir("orchard-playground-");
        try {
            const output = join(dir, "out.jsonl");
            const extract = await runOrchard(["extract", "--model", await tinyModel(), "--input", sampleInput, "--output", output, "--drop-prompt", ...ENGINE]);
            assert.equal(extract.code, 0, extract.stderr);
            const expected = (await readFile(output, "utf8")).trimEnd().split("\n").slice(0, 4);
            const inputs = (await readFile(sampleInput, "utf8")).trimEnd().split("\n").slice(0, 4).map((line) => JSON.parse(line) as {id: string; label: number; document: string});
            // sent at once: the playground queues them on its one engine
            const answers = await Promise.all(inputs.map((input) => reask(open.url, {...PROMPT, document: input.document, id: input.id, label: input.label})));
            for (const [index, answer] of answers.entries()) {
                assert.equal(answer.status, 200, answer.body);
                const result = JSON.parse(answer.body) as {answer: string; yesProbability: number; yesLogit: number; noLogit: number; attributes: number[]; line: string; tokens: number};
                const wanted = JSON.parse(expected[index] as string) as {id: string; label: number; document: string; attributes: number[]};
                // the lines differ only where the input's info/group (which the API does not take) appear
                assert.deepEqual(JSON.parse(result.line), {id: wanted.id, label: wanted.label, document: wanted.document, attributes: wanted.attributes});
                assert.deepEqual(result.attributes, wanted.attributes);
                assert.equal(result.answer, result.yesLogit >= result.noLogit ? "Yes" : "No");
                assert.ok(Math.abs(result.yesProbability - 1 / (1 + Math.exp(result.noLogit - result.yesLogit))) < 1e-12);
                assert.ok(result.tokens > 10);
            }
            const plain = expected.findIndex((line) => !/"info"|"group"/.test(line));
            assert.equal(JSON.parse(answers[plain]?.body ?? "{}").line, expected[plain], "a line without info/group is byte for byte extract's");
        } finally {
            await removeTempDir(dir);
        }
    });

    it("answers bad input with a 4xx JSON error and a code: empty or over-long document, bad JSON, unknown field, wrong method", async () => {
        const empty = await reask(open.url, {...PROMPT, document: "  \n "});
        assert.deepEqual([empty.status, errorOf(empty).code], [400, "EMPTY_DOCUMENT"]);
        const long = await reask(open.url, {...PROMPT, document: "0123456789".repeat(400)});
        assert.deepEqual([long.status, errorOf(long).code], [400, "DOCUMENT_TOO_LONG"]);
        const details = errorOf(long).details;
        assert.ok(details !== undefined && details.tokens > 1024 && details.contextSize === 1024, long.body);
        assert.match(errorOf(long).message, new RegExp(`${details.tokens} tokens.*context size of 1024`));
        const badJson = await reask(open.url, "{\"document\": ");
        assert.deepEqual([badJson.status, errorOf(badJson).code], [400, "INVALID_JSON"]);
        const unknown = await reask(open.url, {...PROMPT, document: "fine", promt: "typo"});
        assert.deepEqual([unknown.status, errorOf(unknown).code], [400, "INVALID_REQUEST"]);
        assert.match(errorOf(unknown).message, /promt/);
        const missing = await reask(open.url, {promptText: PROMPT.promptText, document: "fine"});
        assert.deepEqual([missing.status, errorOf(missing).code], [400, "INVALID_REQUEST"]);
        const get = await send(open.url, "/api/reask");
        assert.equal(get.status, 405);
    });

    it("refuses a POST without the action header or from another origin, and requests not addressed to localhost", async () => {
        const body = {...PROMPT, document: "fine"};
        const noHeader = await reask(open.url, body, {"content-type": "application/json"});
        assert.deepEqual([noHeader.status, errorOf(noHeader).code], [403, "FORBIDDEN"]);
        const crossOrigin = await reask(open.url, body, {...ACTION, origin: "http://evil.example"});
        assert.deepEqual([crossOrigin.status, errorOf(crossOrigin).code], [403, "FORBIDDEN"]);
        const ownOrigin = await reask(open.url, body, {...ACTION, origin: open.url});
        assert.equal(ownOrigin.status, 200, ownOrigin.body);
        const rebound = await send(open.url, "/api/info", {headers: {host: "evil.example"}});
        assert.equal(rebound.status, 403);
    });

    it("with a token: none or a wrong one is 401, the right one works, ?token= sets the playground's own cookie", async () => {
        const body = JSON.stringify({...PROMPT, document: "fine"});
        const none = await send(guarded.url, "/api/info");
        assert.deepEqual([none.status, errorOf(none).code], [401, "UNAUTHORIZED"]);
        const wrong = await send(guarded.url, "/api/reask", {method: "POST", headers: {...ACTION, authorization: "Bearer wrong-token-0123456789"}, body});
        assert.deepEqual([wrong.status, errorOf(wrong).code], [401, "UNAUTHORIZED"]);
        const right = await send(guarded.url, "/api/reask", {method: "POST", headers: {...ACTION, authorization: `Bearer ${TOKEN}`}, body});
        assert.equal(right.status, 200, right.body);
        const page = await send(guarded.url, `/?token=${TOKEN}`, {headers: {accept: "text/html"}});
        assert.equal(page.status, 303);
        assert.equal(page.headers.location, "/");
        assert.match(String(page.headers["set-cookie"]), /^orchard_playground_token=.*HttpOnly/);
        const withCookie = await send(guarded.url, "/", {headers: {accept: "text/html", cookie: `orchard_dashboard_token=other; orchard_playground_token=${TOKEN}`}});
        assert.equal(withCookie.status, 200);
    });

    it("chat: streams the answer as text events, then done; a JSON schema constrains it to valid JSON", {timeout: 120_000}, async () => {
        const plain = await chat(open.url, {messages: [{role: "user", text: "Hello"}], maxTokens: 8, seed: 1});
        assert.equal(plain.status, 200, plain.body);
        const texts = plain.events.filter((event) => event.type === "text");
        assert.ok(texts.length >= 2, plain.body);
        assert.deepEqual(plain.events.at(-1)?.type, "done");
        assert.equal(plain.events.at(-1)?.finish, "length");
        // multi-turn: the earlier answer goes back as the assistant's turn
        const again = await chat(open.url, {messages: [{role: "user", text: "Hello"}, {role: "assistant", text: texts.map((event) => event.text).join("")}, {role: "user", text: "More"}], maxTokens: 4, seed: 1});
        assert.equal(again.events.at(-1)?.type, "done", again.body);
        const schema = {type: "object", properties: {answer: {enum: ["yes", "no"]}}, required: ["answer"]};
        const json = await chat(open.url, {messages: [{role: "user", text: "Yes or no?"}], maxTokens: 64, jsonSchema: schema});
        const done = json.events.at(-1);
        assert.equal(done?.finish, "stop", json.body);
        const completion = json.events.filter((event) => event.type === "text").map((event) => event.text).join("");
        assert.deepEqual(JSON.parse(completion), done?.json);
        assert.ok(["yes", "no"].includes((done?.json as {answer: string}).answer));
    });

    it("chat: Stop (the client drops the connection) ends the answer and the next turn is served; bad settings and a full context are 400s", {timeout: 120_000}, async () => {
        const stopped = await chat(open.url, {messages: [{role: "user", text: "Tell me a long story"}], maxTokens: 4096}, {abortAfterText: 2});
        assert.ok(stopped.events.filter((event) => event.type === "text").length >= 2);
        assert.ok(!stopped.events.some((event) => event.type === "done"));
        const next = await chat(open.url, {messages: [{role: "user", text: "Hi"}], maxTokens: 2});
        assert.equal(next.events.at(-1)?.type, "done", next.body);
        const tooMany = await chat(open.url, {messages: [{role: "user", text: "Hi"}], maxTokens: 4097});
        assert.deepEqual([tooMany.status, errorOf({status: 400, headers: {}, body: tooMany.body}).code], [400, "INVALID_REQUEST"]);
        const lastNotUser = await chat(open.url, {messages: [{role: "assistant", text: "Hi"}]});
        assert.equal(lastNotUser.status, 400);
        const full = await chat(open.url, {messages: [{role: "user", text: "0123456789".repeat(200)}]});
        assert.deepEqual([full.status, errorOf({status: 400, headers: {}, body: full.body}).code], [400, "CONTEXT_FULL"], full.body);
        const toolsAndSchema = await chat(open.url, {messages: [{role: "user", text: "Hi"}], tools: true, jsonSchema: {type: "object"}});
        assert.equal(toolsAndSchema.status, 400, toolsAndSchema.body);
        // tools on: node-llama-cpp's function calling runs the turn (the tiny model's random text rarely calls a tool)
        const withTools = await chat(open.url, {messages: [{role: "user", text: "What is 6 * 7?"}], tools: true, maxTokens: 8, seed: 2});
        assert.equal(withTools.events.at(-1)?.type, "done", withTools.body);
        const badSchema = await chat(open.url, {messages: [{role: "user", text: "Hi"}], jsonSchema: "{\"type\": \"object\"}"});
        assert.equal(badSchema.status, 400, badSchema.body);
    });

    it("refuses an address beyond this machine without a token, before loading the model, with a one-line error", async () => {
        const result = await runOrchard(["playground", "--model", await tinyModel(), "--host", "0.0.0.0", "--port", "0"]);
        assert.equal(result.code, 1);
        assert.match(result.stderr, /0\.0\.0\.0.*ORCHARD_PLAYGROUND_TOKEN/);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });
});
