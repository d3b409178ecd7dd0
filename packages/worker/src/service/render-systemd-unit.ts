import type {WorkerServiceSpec} from "./types.ts";
import {workerServiceProgram} from "./worker-service-program.ts";

/**
 * A systemd user unit for a worker: started with the user's session manager and restarted if it
 * exits, SIGTERM on stop with `stopTimeoutSeconds` to finish or hand back the shard in hand. Logs
 * go to the journal.
 */
export function renderSystemdUnit(spec: WorkerServiceSpec): string {
    const execStart = workerServiceProgram(spec).map(quote).join(" ");
    return `# An Orchard worker as a systemd user service, written by \`orchard worker install-service\`
# (run it again to change the flags). It runs while this user has a session; to keep it running
# after logout: loginctl enable-linger $USER.
#   status:  orchard worker service-status   (or: systemctl --user status ${spec.name}.service)
#   stop:    orchard worker uninstall-service (or: systemctl --user disable --now ${spec.name}.service)
#   logs:    journalctl --user -u ${spec.name}.service
# The Redis URL and its password are not in this file: the worker reads them at start from
# ${spec.redisUrlFile} (mode 600).
[Unit]
Description=Orchard worker
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
WorkingDirectory=${spec.workingDirectory.replace(/%/g, "%%")}
ExecStart=${execStart}
Restart=always
# a worker that cannot start (Redis unreachable, a bad flag) is retried every 30 s
RestartSec=30
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=${spec.stopTimeoutSeconds}

[Install]
WantedBy=default.target
`;
}

/** One word of ExecStart= or a path setting: double-quoted, with systemd's escapes and % doubled (specifiers). */
function quote(word: string): string {
    return `"${word.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}
