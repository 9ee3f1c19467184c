import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redisInstallLine, type Machine } from '../../src/lib/embedded/redis-install.js';

/** `npm start` without redis-server names the one line that installs it on the machine it is on. */
const machine = (platform: NodeJS.Platform, isRoot: boolean, tools: string[]): Machine => ({
  platform,
  isRoot,
  onPath: async (tool) => tools.includes(tool),
});

describe('the redis-server install line', () => {
  it('Debian/Ubuntu as root: apt-get, lists refreshed first (a fresh image has none)', async () => {
    expect(await redisInstallLine(machine('linux', true, ['apt-get', 'sudo']))).toBe('apt-get update && apt-get install -y redis-server');
  });

  it('Debian/Ubuntu as a user: with sudo when it is there, without when it is not', async () => {
    expect(await redisInstallLine(machine('linux', false, ['apt-get', 'sudo']))).toBe('sudo apt-get update && sudo apt-get install -y redis-server');
    expect(await redisInstallLine(machine('linux', false, ['apt-get']))).toBe('apt-get update && apt-get install -y redis-server');
  });

  it('macOS: Homebrew, never with sudo; named even before Homebrew is installed', async () => {
    expect(await redisInstallLine(machine('darwin', false, ['brew', 'sudo']))).toBe('brew install redis');
    expect(await redisInstallLine(machine('darwin', false, ['sudo']))).toBe('brew install redis');
  });

  it('Fedora/RHEL, openSUSE and Alpine: their own package manager', async () => {
    expect(await redisInstallLine(machine('linux', false, ['dnf', 'yum', 'sudo']))).toBe('sudo dnf install -y redis');
    expect(await redisInstallLine(machine('linux', true, ['yum']))).toBe('yum install -y redis');
    expect(await redisInstallLine(machine('linux', true, ['zypper']))).toBe('zypper install -y redis');
    expect(await redisInstallLine(machine('linux', true, ['apk']))).toBe('apk add redis');
  });

  it('Linux with Homebrew besides the system one: the system one', async () => {
    expect(await redisInstallLine(machine('linux', false, ['brew', 'apt-get', 'sudo']))).toBe('sudo apt-get update && sudo apt-get install -y redis-server');
    expect(await redisInstallLine(machine('linux', false, ['brew']))).toBe('brew install redis');
  });

  it('no package manager it knows: no line (the message says to use the package manager)', async () => {
    expect(await redisInstallLine(machine('linux', true, []))).toBeUndefined();
  });

  it.runIf(existsSync('/usr/bin/apt-get'))('finds the tools of this machine through the shell (Debian: apt-get)', async () => {
    expect(await redisInstallLine()).toMatch(/apt-get install -y redis-server$/);
  });
});
