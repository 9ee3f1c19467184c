import { execFileAsync } from '../processes.js';

/**
 * The one command that installs `redis-server` on this machine, named when it is missing: the
 * package manager found on PATH decides (Homebrew first on macOS, the system's own elsewhere),
 * with `sudo` when we are not root and it is there. No npm package ships a prebuilt server (the
 * ones that exist download and compile Redis), so the embedded Redis needs the system's.
 */
const INSTALLERS: { tool: string; commands: string[] }[] = [
  { tool: 'apt-get', commands: ['apt-get update', 'apt-get install -y redis-server'] },
  { tool: 'dnf', commands: ['dnf install -y redis'] },
  { tool: 'yum', commands: ['yum install -y redis'] },
  { tool: 'zypper', commands: ['zypper install -y redis'] },
  { tool: 'apk', commands: ['apk add redis'] },
];
const HOMEBREW = { tool: 'brew', commands: ['brew install redis'] };

export interface Machine {
  platform: NodeJS.Platform;
  isRoot: boolean;
  onPath(tool: string): Promise<boolean>;
}

/** Asked of the shell, as a person typing the line would find the tool. */
async function onPath(tool: string): Promise<boolean> {
  return execFileAsync('/bin/sh', ['-c', 'command -v "$1"', 'sh', tool]).then(
    () => true,
    () => false,
  );
}

const thisMachine = (): Machine => ({ platform: process.platform, isRoot: process.getuid?.() === 0, onPath });

/** The install command line for `machine`, or undefined when no known package manager is there. */
export async function redisInstallLine(machine: Machine = thisMachine()): Promise<string | undefined> {
  const order = machine.platform === 'darwin' ? [HOMEBREW, ...INSTALLERS] : [...INSTALLERS, HOMEBREW];
  let found: (typeof order)[number] | undefined;
  for (const installer of order) {
    if (await machine.onPath(installer.tool)) {
      found = installer;
      break;
    }
  }
  if (!found) return machine.platform === 'darwin' ? HOMEBREW.commands[0] : undefined;
  // Homebrew refuses to run as root and never wants sudo.
  const sudo = found !== HOMEBREW && !machine.isRoot && (await machine.onPath('sudo')) ? 'sudo ' : '';
  return found.commands.map((command) => `${sudo}${command}`).join(' && ');
}
