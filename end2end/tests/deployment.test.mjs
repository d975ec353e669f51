// Huddle as it is deployed: behind a real Caddy (Debian's, `tls internal`)
// over https:// and wss://, with HUDDLE_TRUSTED_PROXIES naming it; many
// people from many addresses, a flood from one; and once more with
// Huddle's own TLS. Everything stays inside the loopback-only namespace,
// whose 127.0.0.0/8 gives the guests their own source addresses.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  answers, freePort, hostWithRoom, joinCall, launchChromium, mediaGrowth, newPerson, startServer, waitForRemoteVideos,
  stopAndRemove,
} from './support.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Starts Caddy on 127.0.0.1:`port` with its own internal CA, proxying to
 * Huddle on `upstream` as the shipped docs/Caddyfile says (its site and
 * upstream replaced); waits until Huddle answers through it. */
async function startCaddy(port, upstream) {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-caddy-'));
  const caddyfile = join(dir, 'Caddyfile');
  const shipped = readFileSync(join(here, '..', '..', 'docs', 'Caddyfile'), 'utf8');
  const site = shipped
    .replace(/^meet\.example\.org \{$/m, `https://127.0.0.1:${port} {\n\ttls internal`)
    .replace('reverse_proxy 127.0.0.1:3000 {', `reverse_proxy 127.0.0.1:${upstream} {`);
  assert.ok(site.includes('tls internal') && site.includes(`127.0.0.1:${upstream}`), `docs/Caddyfile changed shape:\n${shipped}`);
  writeFileSync(caddyfile, `{
  admin off
  auto_https disable_redirects
  skip_install_trust
  default_bind 127.0.0.1
  storage file_system ${join(dir, 'data')}
}
${site}`);
  const child = spawn('caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 20_000;
  while (!(await answers(`https://127.0.0.1:${port}/healthz`))) {
    if (child.exitCode !== null) throw new Error(`caddy exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`caddy did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Its certificates and state go with it.
  return { child, stop: () => stopAndRemove(child, dir) };
}

/** A guest's signaling socket from source address `from`, with its own
 * guest identity: resolves to its first message, or to the HTTP status
 * the upgrade was refused with. */
function guestSocket(origin, from, join, identity = randomBytes(16).toString('base64url'), headers = {}) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${origin.replace('https:', 'wss:')}/ws`, {
      localAddress: from,
      rejectUnauthorized: false,
      origin,
      // Over https the guest identity is a __Host- cookie (a plain-named
      // one could have been planted, and is not believed).
      headers: { Cookie: `__Host-huddle_guest=${identity}`, ...headers },
    });
    socket.on('unexpected-response', (_request, response) => resolve({ status: response.statusCode }));
    socket.on('error', (error) => resolve({ error: error.message }));
    socket.on('open', () => {
      if (join) socket.send(JSON.stringify({ type: 'join', version: 2, ...join }));
      else resolve({ socket, open: true });
    });
    socket.on('message', (data) => resolve({ socket, message: JSON.parse(data.toString()) }));
  });
}

/** One request through `origin` from source address `from`, on `agent`
 * if given: resolves to { status, body, cookie }. */
function request(origin, path, { from = '127.0.0.1', method = 'GET', headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${origin}${path}`, { method, headers, localAddress: from, rejectUnauthorized: false, agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (d) => { text += d; });
      response.on('end', () => resolve({ status: response.statusCode, body: text, cookie: response.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server function called as a page calls it, through `origin`. */
const callApi = (origin, name, form, options = {}) => request(origin, `/api/${name}`, {
  method: 'POST',
  body: new URLSearchParams(form).toString(),
  ...options,
  headers: { Origin: origin, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers },
});

/** What a client says about itself, different each time `n` changes: the
 * headers Caddy passes on (Forwarded, X-Real-IP) and the one it replaces
 * (X-Forwarded-For). */
const forged = (n) => ({
  Forwarded: `for=198.51.100.${n % 250};proto=https`,
  'X-Forwarded-For': `198.51.101.${n % 250}`,
  'X-Real-IP': `198.51.102.${n % 250}`,
});

/** Resident memory of process `pid`, in KiB. */
const residentKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

/** The request-timing series in a metrics scrape. */
const requestSeries = (scrape) => scrape.split('\n').filter((l) => l.startsWith('huddle_http_request_duration_seconds_count{')).length;

/** Sends `count` requests through `origin`, numbered from `first`, each
 * with a method and a path of its own, `lanes` at a time on kept-alive
 * connections; resolves to how many were answered. */
async function madeUpRequests(origin, first, count, lanes = 16) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: lanes });
  let answered = 0;
  const lane = async (k) => {
    for (let n = first + k; n < first + count; n += lanes) {
      const path = [`/healthz`, `/r/made-up-${n}`, `/nowhere/${n}`, `/pkg/${n}.js`][n % 4];
      const { status } = await request(origin, path, { method: `M${n}`, agent });
      if (status > 0) answered += 1;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, k) => lane(k)));
  agent.destroy();
  return answered;
}

/** A consultation through `origin`: the host's room, a guest who waits in
 * the lobby and is admitted, media both ways over a secure page. */
async function consultation(browser, origin) {
  const { host, joinLink } = await hostWithRoom(browser, origin, 'Clinic', 'Dr. Host', 'Consultation');
  assert.ok(joinLink.startsWith(`${origin}/r/`), joinLink);
  const sockets = [];
  await joinCall(host, joinLink);
  const pat = await newPerson(browser);
  pat.page.on('websocket', (ws) => sockets.push(ws.url()));
  await joinCall(pat, joinLink, 'Pat Guest');
  await pat.page.getByText('Waiting for the host to let you in.').waitFor();
  await host.page.getByRole('button', { name: 'Admit Pat Guest' }).click();
  await waitForRemoteVideos(pat.page, 1);
  await waitForRemoteVideos(host.page, 1);
  for (const page of [host.page, pat.page]) {
    const [growth] = await mediaGrowth(page);
    assert.ok(growth.videoFrames > 10, `video flows: ${JSON.stringify(growth)}`);
    assert.ok(growth.audioBytes > 1000, `sound flows: ${JSON.stringify(growth)}`);
    assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');
  }
  assert.ok(sockets.length > 0 && sockets.every((url) => url.startsWith('wss://')), sockets.join(' '));
  return { host, pat, joinLink };
}

describe('behind Caddy with tls internal', () => {
  const env = {};
  before(async () => {
    const caddyPort = await freePort();
    env.origin = `https://127.0.0.1:${caddyPort}`;
    env.metricsPort = await freePort();
    env.server = await startServer({
      HUDDLE_PUBLIC_ORIGIN: env.origin,
      HUDDLE_TRUSTED_PROXIES: '127.0.0.1',
      HUDDLE_WS_MAX_PER_ADDRESS: '10',
      HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS: '5',
      HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS: '5',
      HUDDLE_METRICS_ADDR: `127.0.0.1:${env.metricsPort}`,
    });
    env.caddy = await startCaddy(caddyPort, env.server.port);
    env.browser = await launchChromium(['--ignore-certificate-errors']);
  });
  after(async () => {
    for (const socket of env.open ?? []) socket.terminate();
    await env.browser?.close();
    await env.caddy?.stop();
    await env.server?.stop();
  });

  it('runs a whole consultation over https and wss', async () => {
    Object.assign(env, await consultation(env.browser, env.origin));
  });

  it('lets 30 guests from 30 addresses into 10 rooms, while one address still meets its limit', async () => {
    const slugs = await env.host.page.evaluate(async () => {
      const out = [];
      for (let n = 1; n <= 10; n += 1) {
        const body = new URLSearchParams({ name: `Group ${n}`, kind: 'meeting' });
        const response = await fetch('/api/create_room', { method: 'POST', body, headers: { Accept: 'application/json' } });
        out.push((await response.json()).slug);
      }
      return out;
    });
    const guests = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        guestSocket(env.origin, `127.0.0.${n + 2}`, { room: slugs[n % 10], name: `Pupil ${n + 1}` })),
    );
    env.open = guests.map((g) => g.socket).filter(Boolean);
    const welcomed = guests.filter((g) => g.message?.type === 'welcome').length;
    console.log(`behind Caddy: ${welcomed} of 30 guests from 30 addresses got in`);
    assert.equal(welcomed, 30, JSON.stringify(guests.filter((g) => g.message?.type !== 'welcome').map((g) => g.message ?? g)));

    // Twelve sockets from one address: the limit of ten holds.
    const flood = await Promise.all(Array.from({ length: 12 }, () => guestSocket(env.origin, '127.0.0.99', null)));
    env.open.push(...flood.map((f) => f.socket).filter(Boolean));
    assert.equal(flood.filter((f) => f.open).length, 10);
    assert.equal(flood.filter((f) => f.status === 429).length, 2);
  });

  it('a client naming itself in Forwarded, X-Forwarded-For or X-Real-IP is still one address', async () => {
    // The probe's finding: rotating Forwarded through Caddy gave 40 of 40
    // sign-ups against a limit of 20, and sockets, sign-ins and passcodes
    // past theirs, with the forged addresses in the audit log.
    const signUps = [];
    for (let n = 0; n < 9; n += 1) {
      const form = { email: `forger${n}@example.org`, display_name: 'Forger', password: 'correct horse battery' };
      signUps.push((await callApi(env.origin, 'signup', form, { from: '127.0.0.50', headers: forged(n) })).status);
    }
    assert.deepEqual(signUps, [200, 200, 200, 200, 200, 200, 429, 429, 429], 'five sign-ups, the one that goes over, then no more');

    const signIns = [];
    for (let n = 0; n < 9; n += 1) {
      const form = { email: `nobody${n}@example.org`, password: 'wrong wrong wrong' };
      signIns.push((await callApi(env.origin, 'login', form, { from: '127.0.0.51', headers: forged(n) })).status);
    }
    assert.deepEqual(signIns, [401, 401, 401, 401, 401, 401, 429, 429, 429], 'five wrong sign-ins, the one that goes over, then no more');

    const sockets = await Promise.all(Array.from({ length: 12 }, (_, n) => guestSocket(env.origin, '127.0.0.52', null, undefined, forged(n))));
    env.open.push(...sockets.map((f) => f.socket).filter(Boolean));
    assert.equal(sockets.filter((f) => f.open).length, 10, 'the limit of ten sockets holds');

    // Wrong passcodes, each from a new browser: the room's count for the
    // address (100) holds, and then not even the right one gets in.
    const slug = await env.host.page.evaluate(async () => {
      const made = await (await fetch('/api/create_room', {
        method: 'POST', body: new URLSearchParams({ name: 'Locked', kind: 'meeting' }), headers: { Accept: 'application/json' },
      })).json();
      await fetch('/api/set_room_passcode', {
        method: 'POST', body: new URLSearchParams({ room: made.id, passcode: '4321' }), headers: { Accept: 'application/json' },
      });
      return made.slug;
    });
    const answers = [];
    for (let n = 0; n < 102; n += 1) {
      const tried = await guestSocket(env.origin, '127.0.0.54', { room: slug, name: `Guesser ${n}`, passcode: String(1000 + n) }, undefined, forged(n));
      tried.socket?.terminate();
      answers.push(tried.message?.code ?? tried.message?.type ?? tried.status);
    }
    // A hundred, the one that goes over, then a wait (a second, doubling).
    assert.deepEqual([...new Set(answers.slice(0, 101))], ['wrong_passcode'], answers.join(' '));
    assert.equal(answers[101], 'too_many_passcodes', answers.slice(95).join(' '));
    const right = await guestSocket(env.origin, '127.0.0.54', { room: slug, name: 'Guesser', passcode: '4321' }, undefined, forged(200));
    right.socket?.terminate();
    assert.equal(right.message?.code, 'too_many_passcodes', 'the right passcode waits too');

    // The audit log names the real address: the account page shows it.
    const signIn = await callApi(env.origin, 'login', { email: 'forger0@example.org', password: 'correct horse battery' },
      { from: '127.0.0.53', headers: forged(7) });
    assert.equal(signIn.status, 200);
    const session = signIn.cookie.map((c) => c.split(';')[0]).join('; ');
    const account = await request(env.origin, '/account', { from: '127.0.0.53', headers: { Cookie: session, ...forged(8) } });
    assert.equal(account.status, 200);
    assert.ok(account.body.includes('127.0.0.53'), 'the sign-in shows its real address');
    assert.ok(!/198\.51\.10[012]\./.test(account.body), 'no forged address was recorded');
  });

  it('a flood of made-up methods and paths through Caddy leaves memory and the series flat', async () => {
    const metrics = `http://127.0.0.1:${env.metricsPort}/metrics`;
    const scrape = async () => (await fetch(metrics)).text();
    assert.equal(await madeUpRequests(env.origin, 0, 1_000), 1_000);
    const [memoryBefore, seriesBefore] = [residentKiB(env.server.pid()), requestSeries(await scrape())];
    assert.equal(await madeUpRequests(env.origin, 1_000, 10_000), 10_000);
    const [memoryAfter, seriesAfter] = [residentKiB(env.server.pid()), requestSeries(await scrape())];
    console.log(`10,000 made-up methods through Caddy: server ${memoryBefore} KiB before, ${memoryAfter} KiB after; ${seriesBefore} request series before, ${seriesAfter} after`);
    assert.equal(seriesAfter, seriesBefore, 'no new series');
    assert.ok(memoryAfter - memoryBefore < 4096, `memory grew by ${memoryAfter - memoryBefore} KiB`);
  });

  it('a guest turned away does not stop another guest on the same address from knocking', async () => {
    const room = env.joinLink.split('/r/')[1];
    // Pat leaves the consultation, so the next guest waits in its lobby.
    await env.pat.page.getByRole('button', { name: 'Leave' }).click();
    const first = await guestSocket(env.origin, '127.0.0.200', { room, name: 'Sam Turned' }, 'A'.repeat(22));
    assert.equal(first.message?.type, 'waiting');
    env.open.push(first.socket);
    await env.host.page.getByRole('button', { name: 'Deny Sam Turned' }).click();
    const second = await guestSocket(env.origin, '127.0.0.200', { room, name: 'Kim Next' }, 'B'.repeat(22));
    assert.equal(second.message?.type, 'waiting', JSON.stringify(second.message));
    env.open.push(second.socket);
    await env.host.page.getByRole('button', { name: 'Admit Kim Next' }).waitFor();
    const again = await guestSocket(env.origin, '127.0.0.201', { room, name: 'Sam Turned' }, 'A'.repeat(22));
    assert.equal(again.message?.code, 'denied', JSON.stringify(again.message));
  });
});

describe("Huddle's own TLS", () => {
  const env = {};
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huddle-tls-'));
    env.dir = dir;
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    env.server = await startServer({ HUDDLE_TLS_CERT: cert, HUDDLE_TLS_KEY: key });
    env.browser = await launchChromium(['--ignore-certificate-errors']);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });

  it('runs the same consultation over its own https and wss', async () => {
    assert.ok(env.server.origin.startsWith('https://'));
    await consultation(env.browser, env.server.origin);
  });
});

describe('the systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    // The unit names /usr/local/bin/huddle: put the built binary there in a
    // private mount namespace, so nothing on this machine changes.
    const unit = join(here, '..', '..', 'docs', 'huddle.service');
    const script = 'mount -t tmpfs tmpfs /usr/local/bin && cp "$HUDDLE_BIN" /usr/local/bin/huddle && systemd-analyze verify "$1"';
    const result = spawnSync('unshare', ['--mount', 'bash', '-c', script, 'verify', unit], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', result.stderr);
  });
});
