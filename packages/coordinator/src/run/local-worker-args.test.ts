import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {resolveNumericsSettings} from "@orchard/shared";
import {localWorkerArgs} from "./local-worker-args.ts";

describe("a run's local workers", () => {
    it("start with the run's numerics, whatever the session passed, and keep the session's other flags", () => {
        const numerics = resolveNumericsSettings({batchSize: 64, engineRoute: "three-pass", flashAttention: false, prefixReuse: "off"}, 2048);
        assert.deepEqual(
            localWorkerArgs(["--context-size", "4096", "--threads", "2", "--batch-size", "512", "--engine-route", "auto", "--flash-attention", "--prefix-reuse", "auto", "--log-level", "warn"], numerics),
            ["--threads", "2", "--log-level", "warn", "--batch-size", "64", "--engine-route", "three-pass", "--no-flash-attention", "--context-size", "2048", "--prefix-reuse", "off"]);
    });
});
