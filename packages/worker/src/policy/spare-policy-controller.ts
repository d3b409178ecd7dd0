import type {Logger} from "@orchard/shared";
import {readMachineFacts, type MachineProbes} from "./machine-probes.ts";
import {evaluateSparePolicy, type PolicyDecision, type SparePolicy} from "./spare-policy.ts";

/** How often the policy is re-checked, in ms: a user who sits down waits at most this long for the Mac to be theirs again (the shard in hand aside). */
export const DEFAULT_POLICY_CHECK_MS = 10_000;

export interface SparePolicyControllerOptions {
    readonly policy: SparePolicy;
    readonly probes: MachineProbes;
    /** The clock (local time). Default `() => new Date()`. */
    readonly now?: () => Date;
    /** ms between checks. Default DEFAULT_POLICY_CHECK_MS; 0: no timer (tests call check()). */
    readonly checkIntervalMs?: number;
    readonly logger?: Logger;
}

/**
 * Decides, every few seconds, whether this machine may work, and tells the worker when that
 * changes. The worker acts on it (FleetWorker.pause / resume); this object only decides.
 */
export class SparePolicyController {
    readonly #options: SparePolicyControllerOptions;
    readonly #now: () => Date;
    #decision: PolicyDecision;
    #timer: NodeJS.Timeout | undefined;
    #checking: Promise<PolicyDecision> | undefined;
    #closed = false;
    #listener: ((decision: PolicyDecision) => Promise<void> | void) | undefined;

    private constructor(options: SparePolicyControllerOptions, first: PolicyDecision) {
        this.#options = options;
        this.#now = options.now ?? (() => new Date());
        this.#decision = first;
    }

    /**
     * Reads the machine once (a probe that cannot run is an INVALID_ARGUMENT naming its flag: the
     * user asked for a check this machine cannot do), then re-checks every `checkIntervalMs`.
     */
    public static async start(options: SparePolicyControllerOptions): Promise<SparePolicyController> {
        const now = options.now ?? (() => new Date());
        const first = evaluateSparePolicy(options.policy, await readMachineFacts(options.policy, options.probes), now());
        const controller = new SparePolicyController(options, first);
        const interval = options.checkIntervalMs ?? DEFAULT_POLICY_CHECK_MS;
        if (interval > 0) {
            controller.#timer = setInterval(() => void controller.check(), interval);
            controller.#timer.unref();
        }
        return controller;
    }

    /**
     * Calls `listener` when the decision changes (allowed <-> paused, or the reason of a pause),
     * never two calls at once. Set after start: the first decision is read from `decision`.
     */
    public onChange(listener: (decision: PolicyDecision) => Promise<void> | void): void {
        this.#listener = listener;
    }

    /** The latest decision. */
    public get decision(): PolicyDecision {
        return this.#decision;
    }

    /** Re-reads the machine and, when the decision changed, tells onChange (and waits for it). */
    public check(): Promise<PolicyDecision> {
        // one check at a time: a slow probe or a long pause (finishing a shard) must not interleave with the next
        this.#checking ??= this.#check().finally(() => (this.#checking = undefined));
        return this.#checking;
    }

    public close(): void {
        this.#closed = true;
        clearInterval(this.#timer);
    }

    public [Symbol.dispose](): void {
        this.close();
    }

    async #check(): Promise<PolicyDecision> {
        let decision: PolicyDecision;
        try {
            decision = evaluateSparePolicy(this.#options.policy, await readMachineFacts(this.#options.policy, this.#options.probes), this.#now());
        } catch (error) {
            // a probe that worked at start and fails now (a busy ioreg): keep the last decision
            this.#options.logger?.warn({err: (error as Error).message}, "could not check the spare-machine policy; keeping the last decision");
            return this.#decision;
        }
        if (this.#closed || sameDecision(decision, this.#decision)) return this.#decision;
        this.#decision = decision;
        try {
            await this.#listener?.(decision);
        } catch (error) {
            this.#options.logger?.error({err: (error as Error).message}, decision.allowed ? "could not resume" : "could not pause");
        }
        return decision;
    }
}

function sameDecision(a: PolicyDecision, b: PolicyDecision): boolean {
    return a.allowed === b.allowed && (a.allowed || b.allowed || a.reason === b.reason);
}
