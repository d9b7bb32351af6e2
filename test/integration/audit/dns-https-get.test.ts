// httpsGet (src/net/https-get.ts) against a real node:https server on loopback: the MTA-STS policy fetch.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { ConnectionError, ProtocolError, TimeoutError, TlsError } from '../../../src/core/errors.js';
import { httpsGet } from '../../../src/net/index.js';
import { testPki } from '../../helpers/certs.js';
import { servePolicy, startPolicyServer } from './dns-fixtures.js';

const URL_ = 'https://mta-sts.example.test/.well-known/mta-sts.txt';
const POLICY = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n';

describe('httpsGet', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test('fetches the body over TLS, checks the name in the URL, sends that name as Host', async () => {
    const server = await startPolicyServer(servePolicy(POLICY));
    cleanup.push(server.close);
    const res = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: server.port },
      ca: server.ca,
    });
    assert.equal(res.status, 200);
    assert.equal(res.mediaType, 'text/plain');
    assert.equal(res.body.toString(), POLICY);
    assert.deepEqual(server.requests, ['GET /.well-known/mta-sts.txt host=mta-sts.example.test']);
  });

  test('a chunked body of several writes arrives whole', async () => {
    const server = await startPolicyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (const line of POLICY.split(/(?<=\n)/)) res.write(line);
      res.end();
    });
    cleanup.push(server.close);
    const res = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: server.port },
      ca: server.ca,
    });
    assert.equal(res.body.toString(), POLICY);
  });

  test('without the test CA the certificate is untrusted: ETLS_CERT_UNTRUSTED', async () => {
    const server = await startPolicyServer(servePolicy(POLICY));
    cleanup.push(server.close);
    const err = await httpsGet({ url: URL_, connect: { host: '127.0.0.1', port: server.port } }).catch(
      (e) => e,
    );
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(err.code, 'ETLS_CERT_UNTRUSTED');
    assert.match(err.message, /--mta-sts-ca/);
    assert.deepEqual(server.requests, [], 'no request is sent over an unverified connection');
  });

  test('a certificate for another name: ETLS_CERT_NAME_MISMATCH', async () => {
    const server = await startPolicyServer(servePolicy(POLICY), ['mta-sts.other.test']);
    cleanup.push(server.close);
    const err = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: server.port },
      ca: server.ca,
    }).catch((e) => e);
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(err.code, 'ETLS_CERT_NAME_MISMATCH');
  });

  test('a redirect is returned as it is, never followed', async () => {
    const server = await startPolicyServer((req, res) => {
      if (req.url === '/.well-known/mta-sts.txt') res.writeHead(301, { location: '/elsewhere' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(POLICY);
    });
    cleanup.push(server.close);
    const res = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: server.port },
      ca: server.ca,
    });
    assert.equal(res.status, 301);
    assert.equal(res.headers['location'], '/elsewhere');
    assert.equal(server.requests.length, 1);
  });

  test('a body over the limit fails with EPROTOCOL, announced or not', async () => {
    const big = 'x'.repeat(70 * 1024);
    const announced = await startPolicyServer(servePolicy(big));
    const streamed = await startPolicyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 70; i++) res.write('y'.repeat(1024));
      res.end();
    });
    cleanup.push(announced.close, streamed.close);
    for (const server of [announced, streamed]) {
      const err = await httpsGet({
        url: URL_,
        connect: { host: '127.0.0.1', port: server.port },
        ca: server.ca,
      }).catch((e) => e);
      assert.ok(err instanceof ProtocolError, String(err));
      assert.match(err.message, /larger than 65536 octets/);
    }
    const small = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: announced.port },
      ca: announced.ca,
      maxBytes: 100 * 1024,
    });
    assert.equal(small.body.length, big.length);
  });

  test('a server that accepts TLS and never answers: ETIMEOUT', async () => {
    const server = await startPolicyServer(() => {
      // never respond
    });
    cleanup.push(server.close);
    const started = Date.now();
    const err = await httpsGet({
      url: URL_,
      connect: { host: '127.0.0.1', port: server.port },
      ca: server.ca,
      timeout: 300,
    }).catch((e) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(Date.now() - started < 2000);
  });

  test('a TCP server that says nothing during the handshake: ETIMEOUT; a closed port: ECONNREFUSED', async () => {
    // Reading (resume) lets the server see our close, so close() below does not wait for the socket.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const err = await httpsGet({ url: URL_, connect: { host: '127.0.0.1', port }, timeout: 300 }).catch(
      (e) => e,
    );
    assert.ok(err instanceof TimeoutError, String(err));
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    const refused = await httpsGet({ url: URL_, connect: { host: '127.0.0.1', port } }).catch((e) => e);
    assert.ok(refused instanceof ConnectionError, String(refused));
    assert.equal(refused.code, 'ECONNREFUSED');
  });

  test('a plaintext server (a 220 banner): ETLS_PLAINTEXT_PORT, with an HTTPS hint', async () => {
    const plain = createServer((socket) => socket.resume().end('220 smtp ready\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => plain.close(() => resolve())));
    const port = (plain.address() as { port: number }).port;
    const { caCert } = await testPki();
    const err = await httpsGet({ url: URL_, connect: { host: '127.0.0.1', port }, ca: caCert }).catch(
      (e) => e,
    );
    assert.ok(err instanceof TlsError, String(err));
    assert.equal(err.code, 'ETLS_PLAINTEXT_PORT');
    assert.match(err.message, /an HTTPS server for mta-sts\.example\.test/);
  });

  test('an aborted signal and a non-https URL are refused', async () => {
    const controller = new AbortController();
    controller.abort();
    const aborted = await httpsGet({ url: URL_, signal: controller.signal }).catch((e) => e);
    assert.equal(aborted.code, 'EABORTED');
    const http = await httpsGet({ url: 'http://mta-sts.example.test/' }).catch((e) => e);
    assert.equal(http.code, 'EINVALID_ARGUMENT');
  });
});
