// Cluster mode in real browsers: two Huddle nodes (127.0.0.2 and
// 127.0.0.3) on one PostgreSQL database and one Redis, behind Caddy as the
// load balancer (127.0.0.1), which routes each node's own path
// (/ws/n/{node}) to it and balances the rest with health checks. A browser
// with the cookie hnode=b is balanced to b first, any other to a, so two
// browsers of one call land on different nodes.
//
// A consultation (browser to browser) and a class (through the media
// server) whose people arrive through different nodes are one call; then
// the class's node is killed (kill -9), and later the node it moved to is
// frozen (kill -STOP): each time the call is back, with media both ways,
// on the other node. The gaps are printed for docs/performance.md.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, hostWithRoom, inbound, joinCall, launchChromium, newPerson, waitForRemoteVideos } from './support.mjs';

/** Heartbeats short enough for a test (the defaults: 6 s and 15 s), and a
 * tick each second. `CLUSTER_TIMINGS=default` runs the same with the
 * defaults, for the failover figures in docs/performance.md. */
const DEFAULTS = process.env.CLUSTER_TIMINGS === 'default';
const NODE_TTL_MS = DEFAULTS ? 6000 : 1500;
const LEASE_MS = DEFAULTS ? 15000 : 4500;
/** How long media may take to come back after a node stops. */
const BACK_MS = DEFAULTS ? 90_000 : 30_000;
const SHORT = DEFAULTS
  ? {}
  : {
      HUDDLE_NODE_TTL_MS: String(NODE_TTL_MS),
      HUDDLE_LEASE_MS: String(LEASE_MS),
      // A tick each second: a frozen node is noticed within 4 s.
      HUDDLE_WS_PING_SECONDS: '1',
      HUDDLE_WS_SILENCE_SECONDS: '5',
    };

/** GET `url`: its status, or 0 if it did not answer within a second. */
function status(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => {
      request.destroy();
      resolve(0);
    });
  });
}

async function until(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fresh database on the run's PostgreSQL (scripts/with-postgres.sh). */
function freshDatabase() {
  const admin = process.env.HUDDLE_TEST_DATABASE;
  assert.ok(admin, 'the cluster tests need PostgreSQL (end2end/run.sh starts one)');
  const url = new URL(admin);
  const name = `huddle_e2e_${process.pid}_${Date.now()}`;
  const bin = readdirSync('/usr/lib/postgresql').sort().map((v) => `/usr/lib/postgresql/${v}/bin`).pop();
  execFileSync(`${bin}/createdb`, ['-h', url.hostname, '-p', url.port, '-U', url.username, name]);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Node `name` of the cluster, listening on `ip` (web and media). */
async function startNode(name, ip, { database, prefix, origin, metricsPort, port, media }) {
  port ??= await freePort();
  media ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), `huddle-node-${name}-`));
  const child = spawn(process.env.HUDDLE_BIN, [], {
    cwd: dir,
    env: {
      ...process.env,
      HUDDLE_ADDR: `${ip}:${port}`,
      HUDDLE_DATABASE: database,
      HUDDLE_NODE_ID: name,
      HUDDLE_REDIS_URL: process.env.HUDDLE_TEST_REDIS,
      HUDDLE_REDIS_PREFIX: prefix,
      ...SHORT,
      HUDDLE_PUBLIC_ORIGIN: origin,
      HUDDLE_TRUSTED_PROXIES: '127.0.0.1',
      HUDDLE_MEDIA_ADDR: `${ip}:${media}`,
      HUDDLE_METRICS_ADDR: `${ip}:${metricsPort}`,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await until(`node ${name} serving`, async () => {
    if (child.exitCode !== null) throw new Error(`node ${name} exited with ${child.exitCode}`);
    return (await status(`http://${ip}:${port}/readyz`)) === 200;
  });
  return { name, ip, port, media, metricsPort, child, dir, metrics: `http://${ip}:${metricsPort}/metrics` };
}

function stopNode(node) {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(node.dir, { recursive: true, force: true });
      resolve();
    };
    if (node.child.exitCode !== null || node.child.signalCode !== null) return done();
    node.child.once('exit', done);
    node.child.kill('SIGCONT');
    node.child.kill('SIGKILL');
  });
}

/** Caddy in front of nodes `a` and `b`, as docs/deploy.md's cluster
 * section sets it up (plus the test's cookie preference). */
async function startCaddy(port, a, b) {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-caddy-cluster-'));
  const pool = (first, second) => `reverse_proxy ${first} ${second} {
			lb_policy first
			lb_try_duration 5s
			fail_duration 10s
			health_uri /readyz
			health_interval 500ms
			health_timeout 500ms
		}`;
  const [up_a, up_b] = [`${a.ip}:${a.port}`, `${b.ip}:${b.port}`];
  writeFileSync(join(dir, 'Caddyfile'), `{
	admin off
	auto_https off
	storage file_system ${dir}
}

http://127.0.0.1:${port} {
	handle /ws/n/a {
		reverse_proxy ${up_a}
	}
	handle /ws/n/b {
		reverse_proxy ${up_b}
	}
	@prefer_b header_regexp Cookie (^|;\\s*)hnode=b(;|$)
	handle @prefer_b {
		${pool(up_b, up_a)}
	}
	handle {
		${pool(up_a, up_b)}
	}
}
`);
  const child = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
  });
  await until('caddy serving', async () => {
    if (child.exitCode !== null) throw new Error(`caddy exited: ${log}`);
    return (await status(`http://127.0.0.1:${port}/healthz`)) === 200;
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A browser profile the balancer sends to node b first. */
async function personOnB(browser, origin) {
  const person = await newPerson(browser);
  await person.context.addCookies([{ name: 'hnode', value: 'b', url: origin }]);
  return person;
}

/** One series' value from a node's metrics. */
async function metric(node, series) {
  const text = await new Promise((resolve, reject) => {
    http.get(node.metrics, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => resolve(body));
    }).on('error', reject);
  });
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Whether video frames and audio arrive on `page` (sampled 500 ms
 * apart, over the connections open at the second sample). A class's
 * pupils come in muted: their teacher's page is only sent their video
 * (`page.videoOnly`). */
async function flowing(page) {
  const before = await inbound(page).catch(() => []);
  await page.waitForTimeout(500);
  const after = await inbound(page).catch(() => []);
  const sum = (list, key) => list.reduce((s, t) => s + t[key], 0);
  const audio = page.videoOnly || sum(after, 'audioBytes') - sum(before, 'audioBytes') > 500;
  return sum(after, 'videoFrames') - sum(before, 'videoFrames') > 3 && audio;
}

/** Waits until media flows on every page. */
async function mediaBack(pages, limit = BACK_MS) {
  const started = Date.now();
  for (const page of pages) await until('media flowing', () => flowing(page), limit - (Date.now() - started));
}

/** Lets `name` in from `host`'s lobby list once they knock (a class has
 * a lobby; after a failover nobody is asked again: their pass brings them
 * back past it). */
async function admit(host, name) {
  await host.page.getByRole('button', { name: `Admit ${name}` }).click({ timeout: 30_000 });
}

/** After `stop()`: waits until media has stopped on the pages, then until
 * it flows again on all of them, nobody lifting a finger; the time from
 * `stop()` until then. Meanwhile `watch` (pages of a browser-to-browser
 * call on the same node) is sampled: whether its media ever stopped. */
async function gapAfter(stop, pages, watch = [], settled = async () => true) {
  const at = Date.now();
  const samples = [];
  let watching = true;
  const sampling = (async () => {
    while (watching && watch.length > 0) samples.push((await Promise.all(watch.map(flowing))).every(Boolean));
  })();
  stop();
  await until('media stopping', async () => !(await Promise.all(pages.map(flowing))).some(Boolean), 10_000);
  await mediaBack(pages);
  const gap = Date.now() - at;
  // The watched call is sampled until its own move is over too.
  await until('the watched call settled', settled, BACK_MS);
  watching = false;
  await sampling;
  return { gap, watched: samples };
}

describe('cluster mode: two nodes behind Caddy', () => {
  const env = {};
  before(async () => {
    const caddyPort = await freePort();
    env.origin = `http://127.0.0.1:${caddyPort}`;
    const shared = { database: freshDatabase(), prefix: `e2e${process.pid}:`, origin: env.origin };
    env.shared = shared;
    env.a = await startNode('a', '127.0.0.2', { ...shared, metricsPort: await freePort() });
    env.b = await startNode('b', '127.0.0.3', { ...shared, metricsPort: await freePort() });
    env.caddy = await startCaddy(caddyPort, env.a, env.b);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.caddy?.stop();
    for (const node of new Set([env.a, env.b, env.again])) if (node) await stopNode(node);
  });

  it('a consultation whose two browsers arrive through different nodes is one call, media both ways', async () => {
    const { host: doctor, joinLink } = await hostWithRoom(env.browser, env.origin, 'Clinic', 'Dr. Host', 'Consultation');
    await joinCall(doctor, joinLink);
    await doctor.page.getByText('You are the only one here').waitFor();
    const redirects = await metric(env.b, 'huddle_cluster_placements_total{node="b",result="elsewhere"}');
    const patient = await personOnB(env.browser, env.origin);
    await joinCall(patient, joinLink, 'Pat Patient');
    await patient.page.getByText('Waiting for the host to let you in.').waitFor();
    assert.equal(await metric(env.b, 'huddle_cluster_placements_total{node="b",result="elsewhere"}'), redirects + 1, 'the patient reached b and was sent to a');
    await doctor.page.getByRole('button', { name: 'Admit Pat Patient' }).click();
    await waitForRemoteVideos(patient.page, 1);
    await waitForRemoteVideos(doctor.page, 1);
    await mediaBack([doctor.page, patient.page]);
    // Kept for the failover below: its node is the class's.
    env.consultation = { doctor, patient };
  });

  it('a class through the media server, then its node killed (kill -9) and the next frozen (kill -STOP): back each time, media both ways', async () => {
    const { host: teacher, joinLink } = await hostWithRoom(env.browser, env.origin, 'Year 5', 'Ms. Teacher', 'Class');
    await joinCall(teacher, joinLink);
    teacher.page.videoOnly = true;
    const pupil = await personOnB(env.browser, env.origin);
    await joinCall(pupil, joinLink, 'Pupil Pat');
    await admit(teacher, 'Pupil Pat');
    await waitForRemoteVideos(pupil.page, 1);
    await waitForRemoteVideos(teacher.page, 1);
    await mediaBack([teacher.page, pupil.page]);
    assert.ok((await metric(env.a, 'huddle_calls{node="a"}')) >= 1, 'the class is on a');
    const pages = [teacher.page, pupil.page];

    // kill -9 of the node serving it (and the consultation above).
    const { doctor, patient } = env.consultation;
    const consultationBack = async () =>
      (await doctor.page.locator('.tile.remote').count()) === 1 && (await doctor.page.getByRole('status').filter({ hasText: /Reconnecting/ }).count()) === 0
      && (await patient.page.getByRole('status').filter({ hasText: /Reconnecting/ }).count()) === 0;
    const { gap: killed, watched } = await gapAfter(() => env.a.child.kill('SIGKILL'), pages, [doctor.page, patient.page], consultationBack);
    console.log(`cluster failover, kill -9: the consultation's media flowed in ${watched.filter(Boolean).length} of ${watched.length} samples of 500 ms meanwhile`);
    assert.ok(watched.length > 0 && watched.every(Boolean), `the consultation's browser-to-browser media never stopped: ${JSON.stringify(watched)}`);
    // Its call moved too: both back (past the lobby, with their passes), the same two connected.
    assert.ok(await consultationBack(), 'the consultation is back on b');
    assert.equal(await patient.page.getByText('Waiting for the host to let you in.').count(), 0, 'the patient was not sent back to the lobby');
    assert.ok(await flowing(doctor.page) && await flowing(patient.page), 'the consultation goes on');
    console.log(`cluster failover, kill -9 of the call's node: media back on both pages ${killed} ms after the kill (heartbeat ${NODE_TTL_MS} ms)`);
    assert.ok(killed < 15_000, `media back within 15 s, not ${killed} ms`);
    assert.ok((await metric(env.b, 'huddle_calls{node="b"}')) >= 1, 'the call is on b');
    await teacher.page.locator('.tile.remote figcaption', { hasText: 'Pupil Pat' }).waitFor();
    assert.equal(await teacher.page.locator('.tile.remote').count(), 1, 'the pupil is listed once');

    // a comes back (as a supervisor restarts it, on its address); then b
    // freezes.
    await stopNode(env.a);
    const { port, media, metricsPort } = env.a;
    env.a = env.again = await startNode('a', '127.0.0.2', { ...env.shared, port, media, metricsPort });
    await until('the balancer sees a again', async () => (await status(`${env.origin}/readyz`)) === 200);
    const { gap: frozen } = await gapAfter(() => env.b.child.kill('SIGSTOP'), pages);
    console.log(`cluster failover, kill -STOP of the call's node: media back on both pages ${frozen} ms after the freeze (${DEFAULTS ? 'default tick' : 'tick 1 s'}, heartbeat ${NODE_TTL_MS} ms)`);
    assert.ok(frozen < (DEFAULTS ? 60_000 : 20_000), `media back within ${DEFAULTS ? 60 : 20} s, not ${frozen} ms`);
    assert.ok((await metric(env.a, 'huddle_calls{node="a"}')) >= 1, 'the call is on a');
    // (Taken over from b, or taken afresh if b's lease lapsed before anyone
    // came: the lease is three heartbeats long.)
    assert.ok((await metric(env.a, 'huddle_cluster_placements_total{node="a",result="here"}')) >= 1, 'a placed the call');
    // Woken, b finds its people gone and the call taken over, and keeps
    // out of it: one call, on a.
    env.b.child.kill('SIGCONT');
    await until('b gives the call up', async () => (await metric(env.b, 'huddle_calls{node="b"}')) === 0, 10_000);
    await teacher.page.waitForTimeout(2 * NODE_TTL_MS);
    assert.ok((await metric(env.a, 'huddle_calls{node="a"}')) >= 1, 'the call stays on a');
    assert.equal(await teacher.page.locator('.tile.remote').count(), 1, 'still one pupil');
    assert.ok(await flowing(teacher.page) && await flowing(pupil.page), 'media still flows');
  });
});
