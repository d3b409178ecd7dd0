import type {WorkerServiceSpec} from "./types.ts";
import {workerServiceProgram} from "./worker-service-program.ts";

/**
 * A LaunchAgent plist for a worker: started at login and kept alive, SIGTERM on stop with
 * `stopTimeoutSeconds` to finish or hand back the shard in hand (the worker's --shutdown-timeout-ms
 * is shorter), logs appended to `logFile`. The comments tell a reader how to manage it by hand.
 */
export function renderLaunchAgent(spec: WorkerServiceSpec): string {
    const program = workerServiceProgram(spec).map((word) => `    <string>${xml(word)}</string>`).join("\n");
    return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!--
  An Orchard worker as a LaunchAgent: it runs whenever this user is logged in, restarts if it exits.
  Written by \`orchard worker install-service\` (run it again to change the flags; it also loads it):
    load:    launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/${xmlComment(spec.name)}.plist
    stop:    launchctl bootout gui/$(id -u)/${xmlComment(spec.name)}   (or: orchard worker uninstall-service)
    status:  orchard worker service-status
    logs:    ${xmlComment(spec.logFile)} (JSON lines)
  The Redis URL and its password are not in this file: the worker reads them at start from
  ${xmlComment(spec.redisUrlFile)} (mode 600).
  SIGTERM from launchctl lets the worker finish or hand back its current shard (ExitTimeOut).
-->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(spec.name)}</string>
  <key>ProgramArguments</key>
  <array>
${program}
  </array>
  <key>WorkingDirectory</key>
  <string>${xml(spec.workingDirectory)}</string>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <!-- a worker that cannot start (Redis unreachable, a bad flag) is retried every 30 s, not every 10 -->
  <key>ThrottleInterval</key>
  <integer>30</integer>
  <key>ExitTimeOut</key>
  <integer>${spec.stopTimeoutSeconds}</integer>
  <key>StandardOutPath</key>
  <string>${xml(spec.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(spec.logFile)}</string>
</dict>
</plist>
`;
}

function xml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Text inside an XML comment: "--" may not appear there. */
function xmlComment(text: string): string {
    return text.replace(/--/g, "-\u2010");
}
