import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A certificate authority of the test's own, made with openssl at test time, and server
 * certificates it signs for localhost and 127.0.0.1. `caFile` is what NODE_EXTRA_CA_CERTS points at.
 */
const run = promisify(execFile);

export interface TestCa {
  dir: string;
  caFile: string;
  /** A key and certificate for localhost / 127.0.0.1 signed by this CA. */
  serverCert(name: string): Promise<{ key: string; cert: string }>;
  remove(): Promise<void>;
}

export async function createTestCa(label = 'Campaign Guard Test CA'): Promise<TestCa> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cg-ca-'));
  const file = (name: string) => path.join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', `/CN=${label}`]);
  return {
    dir,
    caFile: file('ca.pem'),
    async serverCert(name) {
      await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', '/CN=localhost']);
      await writeFile(file(`${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
      await run('openssl', ['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2', '-extfile', file(`${name}.ext`)]);
      return { key: await readFile(file(`${name}.key`), 'utf8'), cert: await readFile(file(`${name}.pem`), 'utf8') };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
