import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileAsync } from '../processes.js';
import type { Logger } from '../logger.js';

/**
 * Where the embedded Postgres's binaries and data live so that its server can reach them.
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` system user, and that
 * user cannot reach anything under a private folder (root's home, a `mktemp -d` folder: mode
 * 0700). When the project sits in one, the binaries in node_modules are copied once per version
 * to a root-owned folder everyone can traverse (PLACEMENT_ROOT), and a DATA_DIR out of reach keeps
 * its cluster there too: `DATA_DIR/postgres` becomes a symlink to it, so the next start, and a
 * CLI command attaching to a running server, find it where they always look.
 */

export const PLACEMENT_ROOT = '/var/lib/campaign-guard';

export interface Binaries {
  pg_ctl: string;
  initdb: string;
}

/** The system user the server runs as, when it is not us. */
export interface ServerUser {
  uid: number;
  gid: number;
}

const SERVER_USER = 'postgres';

/** Undefined when we are not root: the server then runs as us and reaches what we reach. */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await execFileAsync('id', ['-u', SERVER_USER])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', SERVER_USER])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await execFileAsync('groupadd', ['--system', SERVER_USER]).catch(() => undefined);
    await execFileAsync('useradd', ['--system', '-g', SERVER_USER, '--no-create-home', SERVER_USER]).catch(() => undefined);
    return lookup();
  }
}

/**
 * Whether `user` can search (for a directory) or execute (for a file) `target`, which needs every
 * folder above it to be searchable too. Asked of the kernel as that user, exactly as the server
 * will be started (no supplementary groups), so ACLs and group bits count as they will then.
 */
export async function reachableBy(user: ServerUser, target: string): Promise<boolean> {
  try {
    await execFileAsync('/bin/sh', ['-c', 'test -x "$1"', 'sh', target], { uid: user.uid, gid: user.gid, cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

async function exists(target: string): Promise<boolean> {
  return lstat(target).then(
    () => true,
    () => false,
  );
}

/** Makes `folder` and the folders between it and the placement root traversable by every user. */
async function openFolder(folder: string, root: string) {
  await mkdir(folder, { recursive: true });
  if (folder !== root && !folder.startsWith(`${root}${path.sep}`)) return; // an operator's own link: only checked
  for (let at = folder; at.startsWith(root); at = path.dirname(at)) {
    if (((await stat(at)).mode & 0o111) !== 0o111) await chmod(at, 0o755);
    if (at === root) break;
  }
}

/** Copies a tree with modes everyone can read and run (the source's may follow a 077 umask). */
async function copyReadable(from: string, to: string) {
  await mkdir(to);
  await chmod(to, 0o755);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else if (entry.isDirectory()) await copyReadable(source, target);
    else {
      await copyFile(source, target);
      await chmod(target, (await stat(source)).mode & 0o100 ? 0o755 : 0o644);
    }
  }
}

/** The package's binaries, or a copy of them the server's user can run. */
export async function placeBinaries(bin: Binaries, user: ServerUser | undefined, root: string, logger?: Logger): Promise<Binaries> {
  if (!user || (await reachableBy(user, bin.initdb))) return bin;
  const native = path.resolve(path.dirname(bin.initdb), '..');
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const target = path.join(root, `postgres-${version}-${os.platform()}-${os.arch()}`);
  const placed: Binaries = { initdb: path.join(target, 'bin', 'initdb'), pg_ctl: path.join(target, 'bin', 'pg_ctl') };
  if (!(await exists(target))) {
    await openFolder(root, root);
    // Copied aside and renamed into place, so a folder that exists is complete.
    const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
    try {
      await copyReadable(native, partial);
      await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
        if (!(await exists(target))) throw error; // else another process placed it first
      });
      logger?.info({ binaries: target }, 'copied the Postgres binaries where the postgres system user can run them (node_modules is in a private folder)');
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
  if (!(await reachableBy(user, placed.initdb))) {
    throw new Error(`the postgres system user cannot run ${placed.initdb}: make ${root} readable by everyone (chmod 755) or set DATABASE_URL`);
  }
  return placed;
}

/** Where a DATA_DIR out of reach keeps its cluster: one folder per DATA_DIR path, named after it. */
export function relocatedClusterDir(dir: string, root: string): string {
  const dataDir = path.dirname(dir);
  const name = path.basename(path.dirname(dataDir)).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'root';
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 10);
  return path.join(root, `${name}-${hash}`, path.basename(dir));
}

/**
 * The directory the cluster is really in: `dir` when the server's user can reach it, otherwise a
 * folder under the placement root that `dir` links to. Says in one log line when it is elsewhere.
 */
export async function placeClusterDir(dir: string, user: ServerUser | undefined, root: string, logger?: Logger): Promise<string> {
  if (!user) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const found = await lstat(dir).catch(() => undefined);
  let cluster: string;
  if (found?.isSymbolicLink()) {
    cluster = path.resolve(path.dirname(dir), await readlink(dir));
  } else {
    if (found && (await reachableBy(user, dir))) return dir;
    if (!found && (await reachableBy(user, path.dirname(dir)))) return dir;
    if (found) {
      // An empty folder is what a start before this arrangement left behind; data is never moved.
      if (!found.isDirectory() || (await readdir(dir)).length > 0) {
        throw new Error(`the postgres system user cannot reach the embedded Postgres data in ${dir} (a private folder): move it where that user can reach it and set DATA_DIR, or set DATABASE_URL`);
      }
      await rmdir(dir);
    }
    cluster = relocatedClusterDir(dir, root);
    await symlink(cluster, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process starting at the same moment linked it first, to the same place.
      if (error.code !== 'EEXIST' || path.resolve(path.dirname(dir), await readlink(dir)) !== cluster) throw error;
    });
  }
  await openFolder(path.dirname(cluster), root);
  if (!(await reachableBy(user, path.dirname(cluster)))) {
    throw new Error(`the postgres system user cannot reach ${path.dirname(cluster)}, where the embedded Postgres keeps its data: make it readable by everyone (chmod 755) or set DATABASE_URL`);
  }
  logger?.info({ dataDir: path.dirname(dir), link: dir }, `the embedded Postgres keeps its data in ${cluster}: the postgres system user cannot reach DATA_DIR`);
  return cluster;
}
