// A teacher's gallery fits the screen: 30 pupils on one page of a
// 1920 × 1080 screen, 25 a page at 1280 × 800. The pupils are `sfuload
// --join` peers replaying real VP8 (bench/clips.sh), since this machine
// cannot run 30 Chromium pupils; the teacher is Chromium.
import { spawn, execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostWithRoom, joinCall, launchChromium, startServer, waitForRemoteVideos } from './support.mjs';

const PUPILS = 30;
const ROOT = new URL('../..', import.meta.url).pathname;
const SFULOAD = process.env.SFULOAD ?? join(dirname(process.env.HUDDLE_BIN ?? `${ROOT}target/debug/huddle`), 'examples', 'sfuload');
const CLIPS = `${ROOT}target/clips`;

describe('a class of 30 in the gallery', () => {
  const env = {};
  before(async () => {
    execFileSync(`${ROOT}bench/clips.sh`, [CLIPS], { stdio: 'ignore' });
    env.server = await startServer({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0' });
    env.browser = await launchChromium();
  });
  after(async () => {
    env.load?.kill();
    await env.browser?.close();
    await env.server?.stop();
  });

  it('a large screen holds more than 5 × 5: all 30 on one page at 1920 × 1080, pages of 25 at 1280 × 800', async () => {
    // A 1920 × 1080 screen: the browser offers the slots it can show.
    const large = { width: 1920, height: 1080 };
    const { host: teacher, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Big class', 'Ms. Teacher', 'Class', { viewport: large, screen: large });
    await joinCall(teacher, link);
    env.load = spawn(SFULOAD, ['--join', link, '--pupils', String(PUPILS), '--pictures', CLIPS, '--seconds', '180'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await teacher.page.getByRole('heading', { name: `${PUPILS} people are waiting to join` }).waitFor({ timeout: 30_000 });
    await teacher.page.getByRole('button', { name: 'Admit all' }).click();
    // Every pupil on one page, each picture playing: no pager.
    await waitForRemoteVideos(teacher.page, PUPILS, 60_000);
    const pager = teacher.page.getByRole('navigation', { name: 'Pages of people' });
    assert.equal(await pager.count(), 0, 'no pages at 1920 × 1080');
    // The browser offered the largest page's slots, each naming only the
    // media server's codecs (which keeps the offer a third the size).
    const offer = await teacher.page.evaluate(() => {
      const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
      const receiving = pc.getTransceivers().filter((t) => t.direction === 'recvonly' && t.receiver.track.kind === 'video').length;
      const sdp = pc.localDescription.sdp;
      return { receiving, bytes: sdp.length, others: /H264|VP9|AV1/.test(sdp) };
    });
    assert.equal(offer.receiving, 49, 'a page of 7 × 7 slots offered');
    assert.equal(offer.others, false, 'the offer names no codec the server does not speak');
    assert.ok(offer.bytes < 100_000, `the offer is ${offer.bytes} bytes`);
    // Every tile is wider than tall and none is cut off by the window.
    const tiles = await teacher.page.locator('.grid .tile.remote').evaluateAll((all) => all.map((t) => t.getBoundingClientRect().toJSON()));
    assert.equal(tiles.length, PUPILS);
    for (const tile of tiles) {
      assert.ok(tile.width > tile.height && tile.width >= 160, `a tile ${tile.width} × ${tile.height}`);
      assert.ok(tile.bottom <= 1080 && tile.right <= 1920, `a tile inside the window: ${JSON.stringify(tile)}`);
    }
    // A smaller screen: 5 × 5 a page, the rest on the next.
    await teacher.page.setViewportSize({ width: 1280, height: 800 });
    await pager.getByText(`1–25 of ${PUPILS}`).waitFor();
    await waitForRemoteVideos(teacher.page, 25, 30_000);
    await pager.getByRole('button', { name: 'Next people' }).click();
    await pager.getByText(`26–${PUPILS} of ${PUPILS}`).waitFor();
    await waitForRemoteVideos(teacher.page, PUPILS - 25, 30_000);
  });
});
