import assert from "node:assert/strict";
import {describe, it} from "node:test";
import {parseIoregIdleMs, parsePmsetBattOnAc, parsePmsetThermLevel, parseVmStatAvailableBytes, readMachineFacts, systemProbes} from "./machine-probes.ts";
import {resolveSparePolicy} from "./spare-policy.ts";

// macOS command outputs in the form the commands print them (abridged where marked)
const IOREG = `+-o Root  <class IORegistryEntry, id 0x100000100, retain 28>
  +-o J316sAP  <class IOPlatformExpertDevice, id 0x100000235, registered, matched, active, busy 0 (2314 ms), retain 41>
    +-o AppleARMPE  <class AppleARMPE, id 0x100000236, registered, matched, active, busy 0 (2290 ms), retain 67>
      +-o IOResources  <class IOResources, id 0x100000111, registered, matched, active, busy 0 (0 ms), retain 97>
        +-o IOHIDSystem  <class IOHIDSystem, id 0x1000003d1, registered, matched, active, busy 0 (0 ms), retain 13>
          | {
          |   "IOClass" = "IOHIDSystem"
          |   "IOProviderClass" = "IOResources"
          |   "HIDParameters" = {"HIDClickTime"=500000000,"HIDKeyRepeat"=83333333,"HIDIdleThreshold"=0}
          |   "HIDIdleTime" = 734512908375
          |   "IOMatchCategory" = "IOHIDSystem"
          | }
`;
const PMSET_BATT_BATTERY = `Now drawing from 'Battery Power'
 -InternalBattery-0 (id=4653155)\t87%; discharging; 6:01 remaining present: true
`;
const PMSET_BATT_AC = `Now drawing from 'AC Power'
 -InternalBattery-0 (id=4653155)\t100%; charged; 0:00 remaining present: true
`;
const PMSET_BATT_DESKTOP = "Now drawing from 'AC Power'\n";
const PMSET_THERM_COOL = `Note: No thermal warning level has been recorded
Note: No performance warning level has been recorded
Note: No CPU power status has been recorded
`;
const PMSET_THERM_WARNING = `Thermal warning level set to 2.
Note: No performance warning level has been recorded
Note: No CPU power status has been recorded
`;
const PMSET_THERM_INTEL_THROTTLED = `Note: No thermal warning level has been recorded
Note: No performance warning level has been recorded
2026-11-30 21:04:11 +0100 CPU Power notify
\tCPU_Scheduler_Limit \t= 100
\tCPU_Available_CPUs \t= 8
\tCPU_Speed_Limit \t= 72
`;
const VM_STAT = `Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                               12345.
Pages active:                            456789.
Pages inactive:                          234567.
Pages speculative:                         3456.
Pages throttled:                              0.
Pages wired down:                         98765.
Pages purgeable:                           4321.
"Translation faults":                 123456789.
Pages copy-on-write:                    2345678.
`;

describe("macOS probe parsers on recorded outputs", () => {
    it("ioreg's HIDIdleTime (ns) as ms", () => {
        assert.equal(parseIoregIdleMs(IOREG), 734_512);
        assert.throws(() => parseIoregIdleMs("+-o Root"), /HIDIdleTime/);
    });

    it("pmset -g batt: on AC, on battery, a desktop Mac", () => {
        assert.deepEqual([PMSET_BATT_AC, PMSET_BATT_BATTERY, PMSET_BATT_DESKTOP].map(parsePmsetBattOnAc), [true, false, true]);
    });

    it("pmset -g therm: none recorded is 0, a warning level, an Intel speed limit below 100 %", () => {
        assert.deepEqual([PMSET_THERM_COOL, PMSET_THERM_WARNING, PMSET_THERM_INTEL_THROTTLED].map(parsePmsetThermLevel), [0, 2, 1]);
    });

    it("vm_stat: free + inactive + speculative + purgeable pages", () => {
        assert.equal(parseVmStatAvailableBytes(VM_STAT), (12345 + 234567 + 3456 + 4321) * 16384);
    });

    it("reads only what the enabled checks need, with the commands named; a probe that cannot run names its flag", async () => {
        const calls: string[] = [];
        const outputs: Record<string, string> = {"ioreg -c IOHIDSystem -d 4": IOREG, "pmset -g batt": PMSET_BATT_BATTERY, "pmset -g therm": PMSET_THERM_COOL, "vm_stat": VM_STAT};
        const probes = systemProbes(async (command, args) => {
            const line = [command, ...args].join(" ");
            calls.push(line);
            const output = outputs[line];
            if (output === undefined) throw new Error(`${command} not found`);
            return output;
        }, "darwin");
        assert.deepEqual(await readMachineFacts(resolveSparePolicy({whenIdle: "10m", requireAc: true}), probes), {idleMs: 734_512, onAcPower: false});
        assert.deepEqual(calls.sort(), ["ioreg -c IOHIDSystem -d 4", "pmset -g batt"]);
        assert.deepEqual(await readMachineFacts(resolveSparePolicy({schedule: "22:00-07:00"}), probes), {});
        delete outputs["ioreg -c IOHIDSystem -d 4"];
        await assert.rejects(readMachineFacts(resolveSparePolicy({whenIdle: "10m"}), probes),
            (error: unknown) => (error as {code?: string}).code === "INVALID_ARGUMENT" && /^--when-idle: cannot read .*ioreg/.test((error as Error).message));
    });
});
