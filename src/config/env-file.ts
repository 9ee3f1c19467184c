import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from '../lib/config-error.js';

/** The `.env` file: read into the environment before the configuration is loaded (`--dotenv`). */

let envFileRead: string | undefined;

/** The `.env` file read into the environment at start, if any. */
export const envFileInUse = () => envFileRead;

/**
 * Reads a `.env` file into the environment before the configuration is loaded: `file` names one
 * (it must be readable), undefined reads `.env` in the working directory when there is one, false
 * reads none. A variable already in the environment wins over the file, as with Node's --env-file.
 */
export function readEnvFile(file: string | false | undefined): void {
  if (file === false) return;
  const chosen = path.resolve(file ?? '.env');
  let text: string;
  try {
    text = readFileSync(chosen, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (file === undefined && code === 'ENOENT') return;
    throw new ConfigError(file === undefined ? '.env' : '--dotenv', `names ${chosen}, which cannot be read (${code ?? String(error)})`);
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (process.env[name] === undefined && value !== undefined) process.env[name] = value;
  }
  envFileRead = chosen;
}
