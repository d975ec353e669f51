// A call through a real TURN relay: coturn on 127.0.0.1 (inside the test's
// loopback-only network namespace) with the shared secret Huddle signs its
// credentials with. The host turns on "Hide everyone's network address", so
// both browsers connect with iceTransportPolicy "relay": the selected
// candidate pair must be a relay one on both sides, and video must flow.
// A relay-only class does the same through the media server: coturn relays
// to its port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort, hostWithRoom, joinCall, launchChromium, newPerson, signUpAndIn, startServer, waitForHydration, waitForRemoteVideos, mediaGrowth,
  stopAndRemove,
} from './support.mjs';

const SECRET = 'end-to-end-turn-secret';

/** Starts coturn on `port`, relaying on loopback (allowed for this test
 * only; docs/coturn.conf denies it), and waits until it listens. Its log is
 * verbose: each allocation is a line, which the tests count. */
async function startCoturn(port) {
  const relayBase = 40000 + (port % 1000) * 20;
  // Its own database and pid file: the system ones are not ours to write.
  const dir = mkdtempSync(join(tmpdir(), 'huddle-coturn-'));
  const child = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${relayBase}`, `--max-port=${relayBase + 19}`,
    '--use-auth-secret', `--static-auth-secret=${SECRET}`, '--realm=huddle.test',
    `--db=${join(dir, 'turndb')}`, `--pidfile=${join(dir, 'turnserver.pid')}`,
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--log-file=stdout', '--simple-log', '--verbose',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  // Ready once its TCP listener (beside the UDP one) accepts.
  const listening = () =>
    new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
  const deadline = Date.now() + 10_000;
  while (!(await listening())) {
    if (child.exitCode !== null) throw new Error(`coturn exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`coturn did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    /** Stops it; its database and pid file go too. */
    stop: () => stopAndRemove(child, dir),
    /** How many relay allocations each TURN username (one per person in
     * the call) was given. */
    allocations: () => {
      const counts = {};
      for (const [, user] of log.matchAll(/user <\d+:([^>]+)>: incoming packet ALLOCATE processed, success/g)) {
        counts[user] = (counts[user] ?? 0) + 1;
      }
      return counts;
    },
    /** Runs `steps`; a failure carries the end of coturn's log. */
    explains: async (steps) => {
      try {
        await steps();
      } catch (error) {
        error.message += `\ncoturn's log ends:\n${log.split('\n').slice(-25).join('\n')}`;
        throw error;
      }
    },
  };
}

/** Each person in a call holds one relay allocation: every media line
 * shares one transport from the start (max-bundle), so a browser does not
 * take a relay port per line while it waits for the answer. */
function assertOneAllocationEach(turn, people) {
  const counts = turn.allocations();
  assert.deepEqual(Object.values(counts), Array(people).fill(1), `relay allocations per person: ${JSON.stringify(counts)}`);
}

/** The candidate types of each open peer connection's selected pair. */
function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__peerConnections) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let pair;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      });
      if (!pair) continue;
      out.push({ local: stats.get(pair.localCandidateId)?.candidateType, remote: stats.get(pair.remoteCandidateId)?.candidateType });
    }
    return out;
  });
}

/** Registers hooks giving the enclosing `describe` coturn, a server using
 * it (with `settings` besides) and Chromium. */
function withCoturn(settings = {}) {
  const env = {};
  before(async () => {
    const turnPort = await freePort();
    env.turn = await startCoturn(turnPort);
    env.server = await startServer({ HUDDLE_TURN_URLS: `turn:127.0.0.1:${turnPort}?transport=udp`, HUDDLE_TURN_SECRET: SECRET, ...settings });
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    await env.turn?.stop();
  });
  return env;
}

describe('a call through TURN', () => {
  const env = withCoturn();

  it('a room that hides addresses connects through the relay, and video flows', async () => {
    const host = await newPerson(env.browser);
    const { page } = host;
    await signUpAndIn(page, env.server.origin, { email: 'dr@example.org', name: 'Dr. Host', password: 'correct horse battery' });
    await page.getByLabel('Room name').fill('Private clinic');
    await page.getByRole('button', { name: 'Create room' }).click();
    const link = await page.getByLabel('Join link for Private clinic').inputValue();
    await page.getByRole('link', { name: 'Settings of Private clinic' }).click();
    await page.getByLabel("Hide everyone's network address").check();
    await page.getByRole('button', { name: 'Save network setting' }).click();
    await page.getByText('The network setting is saved').waitFor();

    await page.goto(link);
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await page.getByText('You are the only one here').waitFor();
    const guest = await newPerson(env.browser);
    await guest.page.goto(link);
    await waitForHydration(guest.page);
    // Before joining, the check reaches coturn (its STUN service, no credentials).
    await guest.page.getByText('Check your setup').click();
    await guest.page.getByText("Huddle's server: reachable").waitFor();
    await guest.page.getByText('Network: ready for calls, even through firewalls.').waitFor();
    await guest.page.getByLabel('Your name').fill('Pat');
    await guest.page.getByRole('button', { name: 'Join', exact: true }).click();
    await env.turn.explains(async () => {
      await waitForRemoteVideos(page, 1);
      await waitForRemoteVideos(guest.page, 1);
    });
    assertOneAllocationEach(env.turn, 2);

    for (const who of [page, guest.page]) {
      const pairs = await selectedPairs(who);
      assert.equal(pairs.length, 1);
      assert.deepEqual(pairs[0], { local: 'relay', remote: 'relay' }, JSON.stringify(pairs));
      const [growth] = await mediaGrowth(who);
      assert.ok(growth.videoFrames > 0, 'video flows through the relay');
    }
  });
});

describe('a relay that does not answer', () => {
  const env = {};
  before(async () => {
    // A TURN URL where nothing listens.
    env.server = await startServer({ HUDDLE_TURN_URLS: `turn:127.0.0.1:${await freePort()}`, HUDDLE_TURN_SECRET: SECRET });
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });

  it('the pre-join check says so plainly, and joining stays possible', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Blocked clinic');
    await host.page.goto(joinLink);
    await waitForHydration(host.page);
    // A problem opens the setup check by itself.
    await host.page.getByText('Network: calls may not get through from here.').waitFor({ timeout: 15_000 });
    await host.page.getByText("Huddle's server: reachable").waitFor();
    assert.equal(await host.page.getByRole('button', { name: 'Join', exact: true }).isDisabled(), false);
  });
});

describe('a class through TURN and the media server', () => {
  const env = withCoturn({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0' });

  it("a relay-only class reaches the media server through coturn's relay", async () => {
    const { host: teacher, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Year 6', 'Ms. Teacher', 'Class');
    const { page } = teacher;
    await page.getByRole('link', { name: 'Settings of Year 6' }).click();
    await page.getByLabel("Hide everyone's network address").check();
    await page.getByRole('button', { name: 'Save network setting' }).click();
    await page.getByText('The network setting is saved').waitFor();
    await joinCall(teacher, link);
    const pupil = await newPerson(env.browser);
    await joinCall(pupil, link, 'Pupil');
    await pupil.page.getByText('Waiting for the host to let you in.').waitFor();
    await page.getByRole('button', { name: 'Admit Pupil' }).click();
    await env.turn.explains(async () => {
      await waitForRemoteVideos(pupil.page, 1);
      await waitForRemoteVideos(page, 1);
    });
    // A class offers sixteen media lines: without max-bundle each took a
    // relay port until the answer, and the pupil's could run out.
    assertOneAllocationEach(env.turn, 2);
    for (const who of [page, pupil.page]) {
      const pairs = await selectedPairs(who);
      assert.equal(pairs.length, 1, 'one connection, to the media server');
      assert.equal(pairs[0].local, 'relay', `through the relay: ${JSON.stringify(pairs)}`);
      const [growth] = await mediaGrowth(who);
      assert.ok(growth.videoFrames > 0, 'video flows through the relay and the media server');
    }
  });
});
