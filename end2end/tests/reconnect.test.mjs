// A network blip in the middle of a call: the guest's signaling socket is
// cut and refused for over 5 s while all media traffic is dropped too, long
// enough for the media connection to count as down. The guest sees
// "Reconnecting…", gets back in with the same identity and restarts ICE; the
// host never sees them leave or rejoin; video flows both ways again without
// a page reload.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  blockUdp,
  hostWithRoom,
  joinCall,
  mediaGrowth,
  newPerson,
  restoreUdp,
  serverAndBrowser,
  switchableSignaling,
  waitForRemoteVideos,
} from './support.mjs';

/** The ICE username fragment each of a page's open peer connections uses
 * now: it changes on an ICE restart. */
const iceUfrags = (page) =>
  page.evaluate(() =>
    window.__peerConnections
      .filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1]),
  );

describe('a network blip during a call', () => {
  const env = serverAndBrowser();

  it('the call recovers on its own, with the same people in it', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Check-ups');
    await joinCall(host, joinLink);
    await host.page.getByText('You are the only one here').waitFor();

    const guest = await newPerson(env.browser);
    const network = await switchableSignaling(guest.page);
    await joinCall(guest, joinLink, 'Pat Guest');
    await waitForRemoteVideos(guest.page, 1);
    await waitForRemoteVideos(host.page, 1);

    // Watch the host's view of the guest: the same tile element must survive.
    const guestId = await host.page.locator('.tile.remote').getAttribute('data-participant');
    await host.page.evaluate(() => {
      window.__tilesRemoved = 0;
      document.querySelector('.tile.remote').dataset.survivor = 'yes';
      new MutationObserver((changes) => {
        for (const c of changes) {
          for (const n of c.removedNodes) if (n.classList?.contains('tile')) window.__tilesRemoved += 1;
        }
      }).observe(document.querySelector('.grid'), { childList: true });
    });
    const ufragsBefore = await iceUfrags(guest.page);

    // The blip: no signaling and no media. The signaling socket drops
    // without a goodbye and stays refused while the media connection goes
    // from connected to disconnected (about 7 s in Chromium).
    const guestState = () =>
      guest.page.evaluate(() => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.connectionState));
    blockUdp();
    try {
      network.block();
      network.cut();
      const cut = Date.now();
      const status = guest.page.locator('.call-status', { hasText: 'Reconnecting…' });
      await status.waitFor({ timeout: 5_000 });
      console.log(`socket cut to "Reconnecting…" shown: ${Date.now() - cut} ms`);
      await guest.page.waitForFunction(
        () => window.__peerConnections.some((pc) => ['disconnected', 'failed'].includes(pc.connectionState)),
        null,
        { timeout: 20_000 },
      );
      // The host's tile says its connection is being re-established.
      await guest.page.locator('.tile.remote .tile-state', { hasText: 'Reconnecting…' }).waitFor();
      await guest.page.waitForTimeout(Math.max(0, 5_000 - (Date.now() - cut)));
      // Through it all the call view, with the host's tile, stays up.
      assert.equal(await status.count(), 1);
      assert.equal(await guest.page.locator('.tile.remote').count(), 1);
      const growth = await mediaGrowth(guest.page, 1000);
      assert.equal(growth[0].videoFrames, 0, 'media was not cut');

      // Signaling comes back first: the guest resumes and, since its media
      // connection is down, restarts ICE (new credentials) over the new socket.
      network.allow();
      const back = Date.now();
      await guest.page.getByText('In the call with 1 other person.').waitFor({ timeout: 15_000 });
      console.log(`signaling allowed to back in the call: ${Date.now() - back} ms (blip ${back - cut} ms)`);
      await guest.page.waitForFunction(
        (before) => {
          const open = window.__peerConnections.filter((pc) => pc.connectionState !== 'closed');
          const ufrag = /a=ice-ufrag:(\S+)/.exec(open[0]?.localDescription?.sdp ?? '')?.[1];
          return open.length === 1 && ufrag && ufrag !== before && open[0].signalingState === 'stable';
        },
        ufragsBefore[0],
        { timeout: 10_000 },
      );
      console.log(`guest peer connection after resume: ${await guestState()}`);
    } finally {
      restoreUdp();
      network.allow();
    }
    const restored = Date.now();
    await guest.page.waitForFunction(
      () => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').every((pc) => pc.connectionState === 'connected'),
      null,
      { timeout: 20_000 },
    );
    console.log(`media allowed to media connected: ${Date.now() - restored} ms`);

    // The tile shows the video again, no longer "Reconnecting…".
    await guest.page.locator('.tile.remote .tile-state').waitFor({ state: 'detached' });

    // Nobody left, nobody joined: the host's tile for the guest is the very
    // same element, with the same participant id.
    assert.equal(await host.page.evaluate(() => window.__tilesRemoved), 0);
    assert.equal(await host.page.locator('.tile.remote[data-survivor="yes"]').getAttribute('data-participant'), guestId);
    assert.equal(await host.page.locator('.tile.remote').count(), 1);
    assert.equal(await guest.page.evaluate(() => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').length), 1);

    // Video flows again both ways, without a reload.
    for (const [who, page] of [['host', host.page], ['guest', guest.page]]) {
      const since = Date.now();
      for (;;) {
        const [growth] = await mediaGrowth(page, 500);
        if (growth.videoFrames > 5 && growth.audioBytes > 0) break;
        assert.ok(Date.now() - since < 15_000, `${who} receives no video 15 s after the blip: ${JSON.stringify(growth)}`);
      }
      console.log(`${who}: media connected to video decoding again: ${Date.now() - restored} ms`);
    }
  });
});

describe('a server restart during a call', () => {
  const env = serverAndBrowser();

  it('everyone is back in the call on their own, seeing each other', async () => {
    const { host, joinLink } = await hostWithRoom(env.browser, env.server.origin, 'Check-ups');
    await joinCall(host, joinLink);
    await host.page.getByText('You are the only one here').waitFor();
    const guest = await newPerson(env.browser);
    await joinCall(guest, joinLink, 'Pat Guest');
    await waitForRemoteVideos(guest.page, 1);
    await waitForRemoteVideos(host.page, 1);

    // Mark what exists now: the tile elements and the peer connections.
    const before = [];
    for (const page of [host.page, guest.page]) {
      before.push(
        await page.evaluate(() => {
          document.querySelector('.tile.remote').dataset.old = 'yes';
          return window.__peerConnections.length;
        }),
      );
    }
    const restarting = Date.now();
    await env.server.restart();
    // The restarted server holds no places, so both join afresh, as new
    // participants, without anyone pressing anything: each sees the other
    // in a new tile, over a new peer connection, and the old one is closed.
    // (Ids start again from 1 on a new server, so they prove nothing.)
    for (const [i, page] of [host.page, guest.page].entries()) {
      await page.waitForFunction(
        (count) => {
          const tiles = [...document.querySelectorAll('.tile.remote')];
          const open = window.__peerConnections.filter((pc) => pc.connectionState !== 'closed');
          return (
            tiles.length === 1 &&
            tiles[0].dataset.old === undefined &&
            window.__peerConnections.length > count &&
            open.length === 1 &&
            open[0] === window.__peerConnections.at(-1)
          );
        },
        before[i],
        { timeout: 20_000 },
      );
      await page.getByText('In the call with 1 other person.').waitFor();
    }
    await waitForRemoteVideos(guest.page, 1);
    await waitForRemoteVideos(host.page, 1);
    console.log(`server restart to both back in the call with video: ${Date.now() - restarting} ms`);
    await host.page.locator('.tile.remote figcaption', { hasText: 'Pat Guest' }).waitFor();
    await guest.page.locator('.tile.remote figcaption', { hasText: 'Dr. Host' }).waitFor();
    for (const [who, page] of [['host', host.page], ['guest', guest.page]]) {
      const growth = await mediaGrowth(page);
      const live = growth.filter((g) => g.videoFrames > 10);
      assert.equal(live.length, 1, `${who}: one live incoming video after the restart, got ${JSON.stringify(growth)}`);
    }
  });
});
