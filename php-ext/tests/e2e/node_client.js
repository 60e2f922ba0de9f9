// Node `ws` client checks against the PHP examples, run by test_node.py:
//   node node_client.js echo|chat URL
// Prints "ok CASE" and exits 0, or prints the failure and exits 1.
'use strict';
const WebSocket = require('ws');
const assert = require('assert/strict');
const crypto = require('crypto');

function open(url) {
  const ws = new WebSocket(url);
  const inbox = [];
  const waiting = [];
  ws.on('message', (data, isBinary) => {
    const m = { data, isBinary };
    const w = waiting.shift();
    w ? w(m) : inbox.push(m);
  });
  ws.next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiting.push(r)));
  ws.nextJson = async (pred = () => true) => {
    for (;;) {
      const m = JSON.parse((await ws.next()).data.toString());
      if (pred(m)) return m;
    }
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const cases = {
  async echo(url) {
    const ws = await open(url);
    const blob = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80]), crypto.randomBytes(70000)]);
    ws.send(blob);
    const back = await ws.next();
    assert.ok(back.isBinary && Buffer.compare(back.data, blob) === 0, 'binary round trip');
    ws.send('héllo');
    const text = await ws.next();
    assert.ok(!text.isBinary && text.data.toString() === 'héllo', 'text round trip');
    const closed = new Promise((r) => ws.once('close', (code) => r(code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
  },

  async chat(url) {
    const a = await open(url);
    const b = await open(url);
    a.send(JSON.stringify({ type: 'join', nick: 'node-a', room: 'js' }));
    await a.nextJson((m) => m.type === 'joined' && m.nick === 'node-a');
    b.send(JSON.stringify({ type: 'join', nick: 'node-b', room: 'js' }));
    await a.nextJson((m) => m.type === 'joined' && m.nick === 'node-b');
    b.send(JSON.stringify({ type: 'say', text: 'from b' }));
    const said = await a.nextJson((m) => m.type === 'message');
    assert.deepEqual([said.nick, said.text, said.room], ['node-b', 'from b', 'js']);
    a.send(JSON.stringify({ type: 'dm', to: 'node-b', text: 'private' }));
    const dm = await b.nextJson((m) => m.type === 'dm');
    assert.deepEqual([dm.from, dm.text], ['node-a', 'private']);
    b.close();
    const left = await a.nextJson((m) => m.type === 'left');
    assert.equal(left.nick, 'node-b');
    a.close();
  },
};

const [name, url] = process.argv.slice(2);
const timer = setTimeout(() => { console.log(`timeout in ${name}`); process.exit(1); }, 10000);
cases[name](url).then(
  () => { clearTimeout(timer); console.log(`ok ${name}`); process.exit(0); },
  (e) => { console.log(`${name}: ${e.stack || e}`); process.exit(1); },
);
