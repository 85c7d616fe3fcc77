import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { ROOT } from './logkit.js';

/**
 * A port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range, for a
 * server a test starts again on the same port (bench/lib/free-port.mjs says why: no port-0 bind
 * of another test can take it while the server is down).
 */
export async function freePort(): Promise<number> {
  const { freePort: pick } = (await import(pathToFileURL(join(ROOT, 'bench', 'lib', 'free-port.mjs')).href)) as { freePort: () => Promise<number> };
  return pick();
}

/** A self-signed certificate for 127.0.0.1 and localhost (openssl), written to DIR/NAME.pem and DIR/NAME.key. */
export async function selfSignedCert(dir: string, name = 'server'): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  const r = await execa('openssl', args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}
