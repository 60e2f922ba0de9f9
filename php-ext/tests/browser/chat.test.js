// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) opens the
// chat page served by chat.php in two tabs and checks that a message typed in one
// appears in the other.
//   SWITCHBOARD_EXT=/abs/libswitchboard_php.so node chat.test.js
// Ends with `N passed, N failed`; exits 1 on failure.
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXT = process.env.SWITCHBOARD_EXT || path.join(ROOT, 'target', 'release', 'libswitchboard_php.so');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function startChat() {
  const php = spawn(process.env.PHP || 'php',
    ['-d', `extension=${EXT}`, path.join(ROOT, 'php-ext', 'examples', 'chat.php'), '127.0.0.1:0'],
    { env: { ...process.env, CHAT_ONLINE_EVERY: '0.5' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    php.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^listening on (\S+)/);
      if (m) resolve({ php, addr: m[1] });
    });
    php.once('exit', (code) => reject(new Error(`chat.php exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error('chat.php did not start')), 15000);
  });
}

async function main() {
  const { php, addr } = await startChat();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30000,
    });
    const url = `http://${addr}/`;
    const [one, two] = [await context.newPage(), await context.newPage()];
    for (const page of [one, two]) {
      await page.goto(url);
      await page.waitForSelector('#status:text("connected")');
    }
    const nickOne = await one.inputValue('#nick');
    const nickTwo = await two.inputValue('#nick');
    // Tab one sees tab two join the lobby.
    await one.waitForSelector(`#log li:text("${nickTwo} joined lobby")`);

    await one.fill('#text', 'hello from tab one');
    await one.press('#text', 'Enter');
    await two.waitForSelector(`#log li:text("${nickOne}: hello from tab one")`, { timeout: 10000 });
    console.log('ok a message typed in tab one appears in tab two');

    await two.fill('#text', 'and back');
    await two.click('#send');
    await one.waitForSelector(`#log li:text("${nickTwo}: and back")`, { timeout: 10000 });
    await one.waitForSelector('#online:text("2 online")', { timeout: 10000 });
    console.log('ok the reply and the online count appear in tab one');
  } finally {
    if (context) await context.close().catch(() => {});
    php.kill('SIGTERM');
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const timer = setTimeout(() => {
  console.log('FAIL browser chat: timed out\n0 passed, 1 failed');
  process.exit(1);
}, 90000);
main().then(
  () => { clearTimeout(timer); console.log('1 passed, 0 failed'); process.exit(0); },
  (e) => { clearTimeout(timer); console.log(`FAIL browser chat: ${e.stack || e}\n0 passed, 1 failed`); process.exit(1); },
);
