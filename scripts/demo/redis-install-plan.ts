/** What the demo knows about the machine when redis-server is missing. */
export interface InstallFacts {
    /** process.platform. */
    readonly platform: NodeJS.Platform;
    /** Whether the demo runs as root (no sudo needed). */
    readonly root: boolean;
    /** Whether each tool is on PATH. */
    readonly has: (tool: "brew" | "apt-get" | "sudo") => boolean;
    /** Whether `sudo -n true` succeeds: sudo without a password prompt (asked only when sudo is on PATH and the demo is not root). */
    readonly passwordlessSudo: () => boolean;
}

/**
 * How the demo gets redis-server: the commands it runs itself (`install`, each an argv, run in
 * order), or, where it cannot (no package manager it knows, or sudo would ask for a password),
 * the command for the user to run (`manual`) and why the demo does not.
 */
export type InstallPlan =
    | {readonly kind: "install"; readonly commands: readonly (readonly string[])[]}
    | {readonly kind: "manual"; readonly command: string; readonly reason: string};

const BREW: readonly (readonly string[])[] = [["brew", "install", "redis"]];
// a fresh Debian/Ubuntu (a container, a new VM) has no package lists yet: install alone would fail
const APT: readonly (readonly string[])[] = [["apt-get", "update"], ["apt-get", "install", "-y", "redis-server"]];

/** The plan for this machine: Homebrew on macOS, apt-get on Debian/Ubuntu as root or with passwordless sudo (`sudo -n`: never a prompt). */
export function redisInstallPlan(facts: InstallFacts): InstallPlan {
    if (facts.platform === "darwin") {
        if (facts.has("brew")) return {kind: "install", commands: BREW};
        return {kind: "manual", command: "brew install redis", reason: "Homebrew is not installed (https://brew.sh)"};
    }
    if (facts.platform === "linux" && facts.has("apt-get")) {
        if (facts.root) return {kind: "install", commands: APT};
        if (facts.has("sudo") && facts.passwordlessSudo()) return {kind: "install", commands: APT.map((command) => ["sudo", "-n", ...command])};
        return {kind: "manual", command: "sudo apt-get install redis-server", reason: "installing needs root, and sudo would ask for a password"};
    }
    return {
        kind: "manual", command: "your package manager's redis package (e.g. sudo dnf install redis)",
        reason: "the demo installs Redis only with Homebrew (macOS) or apt-get (Debian/Ubuntu)"
    };
}

/** An argv as the user would type it. */
export function commandLine(command: readonly string[]): string {
    return command.map((word) => (/^[\w./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`)).join(" ");
}
