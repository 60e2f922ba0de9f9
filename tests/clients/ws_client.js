// Node `ws` (npm) client checks, driven by test_node_ws.py: node ws_client.js CASE URL
// Prints "ok CASE" and exits 0, or prints the failure and exits 1.
'use strict';
const WebSocket = require('ws');
const assert = require('assert/strict');
const crypto = require('crypto');

const TIMEOUT_MS = 5000;

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms: ${what}`)), TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A connection whose incoming messages, pongs and close are queued for awaiting.
class Client {
  static async open(url, protocols) {
    const c = new Client(new WebSocket(url, protocols, { maxPayload: 64 << 20 }));
    await withTimeout(new Promise((resolve, reject) => {
      c.ws.once('open', resolve);
      c.ws.once('error', reject);
    }), 'open');
    return c;
  }

  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this.push({ kind: 'message', data, isBinary }));
    ws.on('pong', (data) => this.push({ kind: 'pong', data }));
    ws.on('close', (code, reason) => this.push({ kind: 'close', code, reason: reason.toString() }));
    ws.on('error', (err) => this.push({ kind: 'error', err }));
  }

  push(ev) {
    if (this.waiters.length) this.waiters.shift()(ev);
    else this.events.push(ev);
  }

  next(what) {
    if (this.events.length) return Promise.resolve(this.events.shift());
    return withTimeout(new Promise((resolve) => this.waiters.push(resolve)), what);
  }

  async expect(kind, what) {
    const ev = await this.next(what);
    if (ev.kind !== kind) {
      const detail = ev.kind === 'close' ? ` ${ev.code}` : ev.kind === 'error' ? ` ${ev.err.message}` : '';
      throw new Error(`${what}: expected ${kind}, got ${ev.kind}${detail}`);
    }
    return ev;
  }

  async echo(data, binary) {
    this.ws.send(data, { binary });
    const ev = await this.expect('message', `echo of ${data.length} bytes`);
    assert.equal(ev.isBinary, binary, 'opcode of the echo');
    assert.ok(Buffer.from(data).equals(ev.data), `echo of ${data.length} bytes differs`);
  }

  async close(code, reason) {
    this.ws.close(code, reason);
    return this.expect('close', `close ${code}`);
  }
}

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20];

const cases = {
  async text_binary_echo(url) {
    const c = await Client.open(url);
    for (const n of SIZES) {
      // text with multi-byte characters ("é" is 2 bytes), cut to exactly n bytes
      const text = 'é'.repeat(n >> 1) + 'x'.repeat(n & 1);
      assert.equal(Buffer.byteLength(text), n);
      await c.echo(text, false);
      await c.echo(crypto.randomBytes(n), true);
    }
    await c.close(1000);
  },

  async fragmented(url) {
    const c = await Client.open(url);
    c.ws.send('Hel', { fin: false });
    c.ws.send('lo, ', { fin: false });
    c.ws.send('world', { fin: true });
    let ev = await c.expect('message', 'fragmented text');
    assert.equal(ev.isBinary, false);
    assert.equal(ev.data.toString(), 'Hello, world');

    // a UTF-8 sequence cut between two fragments, with a ping between them
    c.ws.send(Buffer.from([0x63, 0x61, 0x66, 0xc3]), { binary: false, fin: false });
    c.ws.ping(Buffer.from('mid-message'));
    c.ws.send(Buffer.from([0xa9]), { binary: false, fin: true });
    ev = await c.expect('pong', 'pong between fragments');
    assert.equal(ev.data.toString(), 'mid-message');
    ev = await c.expect('message', 'fragmented text split inside a character');
    assert.equal(ev.data.toString(), 'café');

    const parts = [crypto.randomBytes(1000), Buffer.alloc(0), crypto.randomBytes(70000)];
    c.ws.send(parts[0], { binary: true, fin: false });
    c.ws.send(parts[1], { binary: true, fin: false });
    c.ws.send(parts[2], { binary: true, fin: true });
    ev = await c.expect('message', 'fragmented binary');
    assert.equal(ev.isBinary, true);
    assert.ok(Buffer.concat(parts).equals(ev.data), 'fragmented binary reassembled wrong');
    await c.close(1000);
  },

  async subprotocol(url) {
    let c = await Client.open(url, ['superchat', 'chat']);
    assert.equal(c.ws.protocol, 'chat', 'negotiated subprotocol');
    await c.echo('with chat', false);
    await c.close(1000);
    c = await Client.open(url);
    assert.equal(c.ws.protocol, '', 'subprotocol when none was offered');
    await c.echo('without', false);
    await c.close(1000);
  },

  async close_codes(url) {
    for (const [code, reason] of [[1000, ''], [1001, 'going'], [3000, 'app'], [4001, 'custom reason']]) {
      const c = await Client.open(url);
      await c.echo('x', false);
      const ev = await c.close(code, reason);
      assert.equal(ev.code, code, `server answered close ${code} with ${ev.code}`);
    }
    // a close frame without a status code: the answer has none (1005) or 1000
    const c = await Client.open(url);
    const ev = await c.close();
    assert.ok(ev.code === 1005 || ev.code === 1000, `empty close answered with ${ev.code}`);
  },

  async ping_pong(url) {
    const c = await Client.open(url);
    for (const payload of [Buffer.alloc(0), Buffer.from('hello'), crypto.randomBytes(125)]) {
      c.ws.ping(payload);
      const ev = await c.expect('pong', `pong for ${payload.length} bytes`);
      assert.ok(payload.equals(ev.data), 'pong payload differs from the ping');
    }
    c.ws.pong(Buffer.from('unsolicited'));  // must be ignored
    await c.echo('still here', false);
    await c.close(1000);
  },
};

async function main() {
  const [name, url] = process.argv.slice(2);
  if (!cases[name] || !url) {
    console.error(`usage: node ws_client.js {${Object.keys(cases).join('|')}} URL`);
    process.exit(2);
  }
  try {
    await cases[name](url);
    console.log(`ok ${name}`);
    process.exit(0);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.stack || err}`);
    process.exit(1);
  }
}

main();
