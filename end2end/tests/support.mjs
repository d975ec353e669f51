// Shared end-to-end helpers: a fresh Huddle server, Chromium with fake
// camera and microphone, and ways to see whether media really flows.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Answers whether `url` (http or https, any certificate) gives 200. */
export function answers(url) {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const request = get(url, { rejectUnauthorized: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

/** Stops `child` (SIGTERM); resolves once it has exited (at once if it
 * already had). */
function stopped(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** Stops `child` and then removes `dir`, its working directory. */
export async function stopAndRemove(child, dir) {
  await stopped(child);
  rmSync(dir, { recursive: true, force: true });
}

/** Starts the server binary on a free port with an empty database;
 * `settings` adds environment variables (with HUDDLE_TLS_CERT, it serves
 * https); `host` is the address it listens on. */
export async function startServer(settings = {}, { host = '127.0.0.1' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-e2e-'));
  const port = await freePort();
  const scheme = settings.HUDDLE_TLS_CERT ? 'https' : 'http';
  const origin = `${scheme}://${host}:${port}`;
  const launch = () =>
    spawn(process.env.HUDDLE_BIN, [], {
      env: {
        ...process.env,
        HUDDLE_ADDR: `${host}:${port}`,
        HUDDLE_DATABASE: join(dir, 'huddle.db'),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        ...settings,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const ready = async (child) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (await answers(`${origin}/healthz`)) return;
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('the server did not start within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let child = launch();
  await ready(child);
  // Stopped for good, its database goes too.
  const stop = () => stopAndRemove(child, dir);
  return {
    origin,
    port,
    stop,
    /** The server process's id (for its CPU figures). */
    pid: () => child.pid,
    /** Stops the server (SIGTERM) and starts it again on the same address
     * and database, as an upgrade or a crash-restart would. */
    restart: async () => {
      await stopped(child);
      child = launch();
      await ready(child);
    },
  };
}

/** Debian's Chromium, headless, with a fake camera (a test pattern) and a
 * fake microphone (a beep), allowed to make WebRTC calls over loopback;
 * `extraArgs` adds flags, `executablePath` starts it another way (a
 * wrapper that runs it in another network namespace). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export function launchChromium(extraArgs = [], executablePath = CHROMIUM) {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Three fake cameras, so switching cameras can be tested. (The
      // second, fake_device_1, is a depth camera whose frames WebRTC
      // cannot send; tests switch between the first and the third.)
      '--use-fake-device-for-media-stream=device-count=3',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      ...extraArgs,
    ],
  });
}

/** A new browser profile whose peer connections the test can inspect. */
export async function newPerson(browser, options = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const created = [];
    window.__peerConnections = created;
    window.RTCPeerConnection = function (...args) {
      const pc = new Native(...args);
      created.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Native.prototype;
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  if (process.env.HUDDLE_DEBUG_CONSOLE) page.on('console', (m) => m.type() === 'error' && console.error(`[console] ${m.text()}`));
  return { context, page };
}

/** Waits until the WASM has hydrated the page (the Join button, named
 * `join` in the page's language, is live). */
export async function waitForHydration(page, join = 'Join') {
  await page.getByRole('button', { name: join, exact: true }).waitFor({ state: 'visible' });
  await page.waitForFunction((name) => {
    const b = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === name);
    return b && !b.disabled;
  }, join);
}

/** Totals of inbound media over every open peer connection of a page. */
export function inbound(page) {
  return page.evaluate(async () => {
    const per = [];
    for (const pc of window.__peerConnections) {
      if (pc.connectionState === 'closed') continue;
      const t = { videoFrames: 0, videoBytes: 0, audioBytes: 0, audioEnergy: 0, pair: null };
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          t.videoFrames += s.framesDecoded ?? 0;
          t.videoBytes += s.bytesReceived ?? 0;
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          t.audioBytes += s.bytesReceived ?? 0;
          t.audioEnergy += s.totalAudioEnergy ?? 0;
        }
      });
      per.push(t);
    }
    return per;
  });
}

/** Waits for `count` remote tiles whose video has real pixels and plays.
 * On a timeout the error says what the page had: each remote video's
 * state, and each connection's state and inbound media. */
export async function waitForRemoteVideos(page, count, timeout = 20_000) {
  try {
    await page.waitForFunction(
      (n) => {
        const videos = [...document.querySelectorAll('.tile.remote video')];
        return videos.length === n && videos.every((v) => v.videoWidth > 0 && v.currentTime > 0);
      },
      count,
      { timeout },
    );
  } catch (error) {
    const seen = await page.evaluate(() => ({
      videos: [...document.querySelectorAll('.tile.remote video')].map((v) => ({
        width: v.videoWidth, time: v.currentTime, paused: v.paused, ready: v.readyState, stream: v.srcObject?.getTracks().map((t) => `${t.kind}:${t.readyState}`) ?? null,
      })),
      connections: (window.__peerConnections ?? []).map((pc) => `${pc.connectionState}/${pc.iceConnectionState}`),
      tiles: document.querySelectorAll('.tile.remote').length,
      status: document.querySelector('.call-status, header p, .status')?.textContent ?? null,
      headings: [...document.querySelectorAll('h1, h2')].map((h) => h.textContent).slice(0, 5),
    })).catch((e) => `unreadable: ${e}`);
    const media = await inbound(page).catch(() => 'unreadable');
    throw new Error(`${error.message}\nwanted ${count} playing remote videos; the page had ${JSON.stringify(seen)}; inbound ${JSON.stringify(media)}`);
  }
}

/** Samples inbound media twice, `ms` apart, per peer connection. */
export async function mediaGrowth(page, ms = 1500) {
  const before = await inbound(page);
  await page.waitForTimeout(ms);
  const after = await inbound(page);
  return after.map((a, i) => ({
    videoFrames: a.videoFrames - (before[i]?.videoFrames ?? 0),
    videoBytes: a.videoBytes - (before[i]?.videoBytes ?? 0),
    audioBytes: a.audioBytes - (before[i]?.audioBytes ?? 0),
    audioEnergy: a.audioEnergy,
  }));
}

/** Registers before/after hooks giving the enclosing `describe` its own
 * server and Chromium; read them from the returned object inside tests. */
export function serverAndBrowser(settings = {}) {
  const env = {};
  before(async () => {
    env.server = await startServer(settings);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Signs up, then signs in (sign-up never says whether an email was new),
 * ending on the rooms page. */
export async function signUpAndIn(page, origin, { email, name, password }) {
  await page.goto(`${origin}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/login?registered=1');
  await page.getByText('your account is ready').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/rooms');
}

/** Drops every UDP packet (all WebRTC media here) inside the test's own
 * network namespace until `restoreUdp`; TCP (HTTP, WebSockets) still flows. */
export function blockUdp() {
  execFileSync('nft', ['add table inet huddle_blip']);
  execFileSync('nft', ['add chain inet huddle_blip input { type filter hook input priority 0 ; }']);
  execFileSync('nft', ['add rule inet huddle_blip input meta l4proto udp drop']);
}

export function restoreUdp() {
  execFileSync('nft', ['delete table inet huddle_blip']);
}

/** Puts `page`'s signaling WebSocket behind a switch the test controls:
 * `cut()` drops the page's side at once (the server's side stays open, as
 * after a network switch), `block()` refuses new connections, `allow()` lets
 * them through again. */
export async function switchableSignaling(page) {
  let blocked = false;
  let current = null;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) {
      ws.close({ code: 1013, reason: 'network down' });
      return;
    }
    const server = ws.connectToServer();
    // No forwarding of closes: a lost network tells neither side.
    ws.onClose(() => {});
    server.onClose(() => {});
    current = ws;
  });
  return {
    cut: () => current?.close({ code: 1006, reason: 'network lost' }),
    block: () => {
      blocked = true;
    },
    allow: () => {
      blocked = false;
    },
  };
}

/** A host, signed up and in, who has created room `room`: the person and
 * the room's join link (the page stays on the rooms list). `options` are
 * the browser context's (a viewport and screen, say). */
export async function hostWithRoom(browser, origin, room, name = 'Dr. Host', kind = null, options = {}) {
  const host = await newPerson(browser, options);
  await signUpAndIn(host.page, origin, { email: 'host@example.org', name, password: 'correct horse battery' });
  await host.page.getByLabel('Room name').fill(room);
  if (kind) await host.page.getByRole('radio', { name: kind }).check();
  await host.page.getByRole('button', { name: 'Create room' }).click();
  const joinLink = await host.page.getByLabel(`Join link for ${room}`).inputValue();
  return { host, joinLink };
}

/** Opens `link` and presses Join, typing `name` first unless signed in. */
export async function joinCall(person, link, name) {
  await person.page.goto(link);
  await waitForHydration(person.page);
  if (name) await person.page.getByLabel('Your name').fill(name);
  await person.page.getByRole('button', { name: 'Join', exact: true }).click();
}

/** Waits until toggle `button` (a locator) says `aria-pressed` = `pressed`. */
export async function waitPressed(button, pressed = true, timeout = 15000) {
  const deadline = Date.now() + timeout;
  while ((await button.getAttribute('aria-pressed')) !== String(pressed)) {
    if (Date.now() > deadline) throw new Error(`${button} never became aria-pressed=${pressed}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The call's toggles, whichever way they point now (their names say what
 * pressing them does: "Mute microphone" / "Unmute microphone"). */
export const toggles = {
  microphone: (page) => page.getByRole('button', { name: /^(Mute|Unmute) microphone$/ }),
  camera: (page) => page.getByRole('button', { name: /^(Stop|Start) camera$/ }),
  hand: (page) => page.getByRole('button', { name: /^(Raise|Lower) hand$/ }),
  share: (page) => page.getByRole('button', { name: /^(Share screen|Stop sharing)$/ }),
};

/** Chooses `action` from the menu on `person`'s tile ("Mute Pat"). */
export async function personAction(page, person, action) {
  const toggle = page.getByRole('button', { name: `Options for ${person}` });
  await toggle.click();
  // The menu's own item: a class's queue of raised hands has a button of
  // the same name.
  await page.locator('.menu').filter({ has: toggle }).getByRole('button', { name: action }).click();
}

/** Chooses `action` from the call's "More" menu ("Lock call"). */
export async function callAction(page, action) {
  await page.getByRole('button', { name: 'More', exact: true }).click();
  await page.getByRole('button', { name: action }).click();
}

/** On a room's settings page: guests wait in a lobby from now on. */
export async function turnOnLobby(page) {
  await page.getByLabel('Guests wait in a lobby until I let them in').check();
  await page.getByRole('button', { name: 'Save lobby setting' }).click();
  await page.getByText('The lobby setting is saved.').waitFor();
}

/** On a room's settings page: the call takes at most `size` people. */
export async function setRoomSize(page, size) {
  await page.getByLabel('Most people in the call, you included').fill(String(size));
  await page.getByRole('button', { name: 'Save size' }).click();
  await page.getByText('The room size is saved.').waitFor();
}

/**
 * The meeting `time` (a `<time data-at-ms data-end-ms>`) once the page has
 * said it in the reader's own time zone: the server's text (the session's
 * zone) moves to its tooltip, which must include `serverText`, and the
 * text is the range as this browser writes it in `lang`.
 */
export async function localMeeting(time, serverText, lang = 'en') {
  await time.waitFor();
  await time.page().waitForFunction(
    ([el, wanted]) => el.title.includes(wanted),
    [await time.elementHandle(), serverText],
  );
  const { text, expected } = await time.evaluate((t, language) => ({
    text: t.textContent,
    expected: new Intl.DateTimeFormat(language, {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
    }).formatRange(new Date(Number(t.dataset.atMs)), new Date(Number(t.dataset.endMs))),
  }), lang);
  assert.equal(text, expected, 'the meeting in the reader\'s zone');
  return text;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on `page`; fails listing each serious or critical rule broken. */
export async function noSeriousViolations(page, what) {
  // Evaluated by the test's own channel: the page's CSP allows no inline script.
  await page.evaluate(axeSource);
  const { violations, passes } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  assert.ok(passes.length > 10, `axe checked next to nothing on ${what}`);
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `${what}: ${bad.join('; ')}`);
}

/** Counts the tones a page plays (oscillators started) in `window.__tones`:
 * run in the page (`page.evaluate`) or before it loads (`addInitScript`). */
export function countTones() {
  window.__tones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
}
