/**
 * HTTPS on the server itself (--tls-cert, --tls-key) with certificates made here by openssl:
 * requests over TLS, TLS 1.1 refused, the certificate reloaded on SIGHUP by the built CLI (new
 * connections get the new one, a bad pair keeps the old one serving), and the pair enforced.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig } from '../../src/config/config.js';
import { childEnv } from '../helpers/server.js';
import { spawnServer } from '../helpers/spawn.js';

const dir = mkdtempSync(join(tmpdir(), 'hfms-tls-'));

/** A self-signed certificate for localhost / 127.0.0.1; returns its PEM paths. */
function makeCert(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** GET over HTTPS trusting `ca`; resolves with the status and the served certificate's subject CN. */
function get(url: string, ca: string): Promise<{ status: number; cn: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), agent: false }, (res) => {
      const socket = res.socket as import('node:tls').TLSSocket;
      const cn = String(socket.getPeerCertificate().subject.CN);
      const protocol = String(socket.getProtocol());
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, cn, protocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

let child: ChildProcess | undefined;
afterAll(() => child?.kill('SIGKILL'));

describe('TLS', () => {
  it('--tls-cert and --tls-key go together', () => {
    expect(() => makeConfig({ tlsCert: '/x.crt' })).toThrow(/--tls-cert and --tls-key go together/);
  });

  it('serves HTTPS (TLS 1.3 preferred, 1.1 refused) and reloads the certificate on SIGHUP', async () => {
    const first = makeCert('first');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key));
    const server = await spawnServer(
      ['--transport', 'http', '--port', '0', '--tls-cert', live.cert, '--tls-key', live.key, '--log-level', 'info'],
      childEnv(),
    );
    child = server.child;
    const url = server.base;
    const a = await get(`${url}/health`, first.cert);
    expect(a).toMatchObject({ status: 200, cn: 'first', protocol: 'TLSv1.3' });
    const port = Number(new URL(url).port);
    const old = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', rejectUnauthorized: false });
      s.on('secureConnect', () => resolve('connected'));
      s.on('error', (e) => resolve(e.message));
    });
    expect(old).not.toBe('connected');

    // A bad pair on SIGHUP keeps the old certificate serving.
    writeFileSync(live.cert, 'not a certificate');
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.stderr()).toMatch(/TLS certificate reload failed/);
    expect((await get(`${url}/health`, first.cert)).cn).toBe('first');

    const second = makeCert('second');
    writeFileSync(live.cert, readFileSync(second.cert));
    writeFileSync(live.key, readFileSync(second.key));
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.stderr()).toMatch(/TLS certificate reloaded/);
    expect(await get(`${url}/health`, second.cert)).toMatchObject({ status: 200, cn: 'second' });
  }, 60_000);
});
