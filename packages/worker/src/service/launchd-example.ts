import {renderLaunchAgent} from "./render-launch-agent.ts";
import {workerServicePaths} from "./worker-service.ts";

/**
 * infra/launchd/com.orchard.worker.plist: what `orchard worker install-service` writes for a user
 * YOU with Homebrew's node and a checkout in ~/orchard. scripts/render-launchd-example.ts writes
 * the file from this, and a test checks that the checked-in one is the same.
 */
export function renderLaunchdExample(nodeFlags: readonly string[]): string {
    const home = "/Users/YOU";
    const paths = workerServicePaths("macos", "com.orchard.worker", home);
    return renderLaunchAgent({
        platform: "macos",
        name: "com.orchard.worker",
        nodePath: "/opt/homebrew/bin/node",
        nodeFlags,
        cliPath: `${home}/orchard/bin/orchard.js`,
        workerArgs: ["--model", `${home}/models/mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf`],
        redisUrlFile: paths.redisUrlFile,
        workingDirectory: `${home}/orchard`,
        logFile: paths.logFile,
        stopTimeoutSeconds: 120
    });
}
