// The websocket exec client (src/cluster/exec.ts) against a local server speaking the apiserver's
// v4.channel.k8s.io framing: channel 1 stdout, 2 stderr, 3 the final Status. The real apiserver's side
// of exec (upgrade, authentication, errors) is covered in test/integration/verify-live.test.ts; no
// kubelet runs there, so the frames of a running command are exercised here.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { WebSocketExecutor } from '../../src/cluster/exec.ts';

const frame = (ch: number, s: string) => Buffer.concat([Buffer.from([ch]), Buffer.from(s)]);

describe('WebSocketExecutor', () => {
  let wss: WebSocketServer;
  let server = '';
  const seen: Array<{ url: string; protocol: string; auth?: string }> = [];

  before(async () => {
    wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: (p) => (p.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
    });
    await new Promise<void>((r) => wss.on('listening', () => r()));
    server = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws, req) => {
      seen.push({ url: req.url ?? '', protocol: ws.protocol, auth: req.headers.authorization });
      const cmd = new URL(req.url ?? '', 'http://x').searchParams.getAll('command');
      if (cmd[0] === 'fail') {
        ws.send(frame(3, JSON.stringify({ status: 'Failure', message: 'container not found ("probe")' })));
      } else {
        ws.send(frame(1, '@@sm-probe r1 rc=0 http=200 err= body=ok\n'));
        ws.send(frame(2, 'warning\n'));
        ws.send(frame(1, '@@sm-probe-done\n'));
        const exit = cmd[0] === 'exit1';
        ws.send(
          frame(
            3,
            JSON.stringify(
              exit
                ? { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } }
                : { status: 'Success' },
            ),
          ),
        );
      }
      ws.close();
    });
  });
  after(() => wss.close());

  const executor = () =>
    new WebSocketExecutor({
      server,
      context: 'test',
      credentials: () => Promise.resolve({ headers: { Authorization: 'Bearer t0k' }, rejectUnauthorized: true }),
    });

  it('sends the command as query parameters with the credentials and collects stdout/stderr', async () => {
    const r = await executor().exec('ns-a', 'sm-probe-x', 'probe', ['sh', '-c', 'echo "a b"'], 5000);
    assert.equal(r.stdout, '@@sm-probe r1 rc=0 http=200 err= body=ok\n@@sm-probe-done\n');
    assert.equal(r.stderr, 'warning\n');
    const u = new URL(seen.at(-1)!.url, 'http://x');
    assert.equal(u.pathname, '/api/v1/namespaces/ns-a/pods/sm-probe-x/exec');
    assert.deepEqual(u.searchParams.getAll('command'), ['sh', '-c', 'echo "a b"']);
    assert.equal(u.searchParams.get('container'), 'probe');
    assert.equal(seen.at(-1)!.protocol, 'v4.channel.k8s.io');
    assert.equal(seen.at(-1)!.auth, 'Bearer t0k');
  });

  it('a non-zero exit of the script is still its output; a Failure without exit code is an error', async () => {
    const r = await executor().exec('ns-a', 'p', 'probe', ['exit1'], 5000);
    assert.match(r.stdout, /@@sm-probe-done/);
    await assert.rejects(executor().exec('ns-a', 'p', 'probe', ['fail'], 5000), /exec: container not found/);
  });
});
