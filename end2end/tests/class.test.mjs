// A class through the media server (HUDDLE_MEDIA_ADDR): a teacher and six
// pupils, each browser with exactly one peer connection (to the server);
// every pupil sees and hears the teacher and the teacher sees every pupil;
// a pupil the teacher has not let speak is not heard even when their page
// forces the microphone on, is heard once let speak, and not after a mute.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostWithRoom, joinCall, mediaGrowth, newPerson, personAction, serverAndBrowser, toggles, waitForRemoteVideos } from './support.mjs';

const PUPILS = 6;

/** The page's peer connections that are still open. */
function openConnections(page) {
  return page.evaluate(() => window.__peerConnections.filter((pc) => pc.connectionState !== 'closed').length);
}

/** Inbound audio bytes over `ms` on the page's one connection. */
async function audioGrowth(page, ms = 1500) {
  const growth = await mediaGrowth(page, ms);
  return growth.reduce((sum, g) => sum + g.audioBytes, 0);
}

describe('a class through the media server', () => {
  const env = serverAndBrowser({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0' });

  it('a teacher and six pupils: one connection each, everyone seen, only those let speak heard', async () => {
    const { host: teacher, joinLink: link } = await hostWithRoom(env.browser, env.server.origin, 'Year 5', 'Ms. Teacher', 'Class');
    await joinCall(teacher, link);
    const knock = async (i) => {
      const pupil = await newPerson(env.browser);
      await joinCall(pupil, link, `Pupil ${i}`);
      await pupil.page.getByText('Waiting for the host to let you in.').waitFor();
      return pupil;
    };
    const pupils = [];
    for (let i = 1; i < PUPILS; i++) pupils.push(await knock(i));
    await teacher.page.getByRole('button', { name: 'Admit all' }).click();
    for (const pupil of pupils) await waitForRemoteVideos(pupil.page, PUPILS - 1, 45_000);

    // The last pupil into a class under way: from Admit to the first picture.
    const last = await knock(PUPILS);
    pupils.push(last);
    const admitted = Date.now();
    await teacher.page.getByRole('button', { name: `Admit Pupil ${PUPILS}` }).click();
    await last.page.waitForFunction(() => [...document.querySelectorAll('.tile.remote video')].some((v) => v.videoWidth > 0 && v.currentTime > 0), null, {
      timeout: 30_000,
    });
    const firstFrame = Date.now() - admitted;

    // Everyone sees everyone else's camera, through one connection each.
    for (const pupil of pupils) await waitForRemoteVideos(pupil.page, PUPILS, 45_000);
    await waitForRemoteVideos(teacher.page, PUPILS, 30_000);
    for (const person of [teacher, ...pupils]) assert.equal(await openConnections(person.page), 1, 'one peer connection, to the server');

    // The figures: the server's CPU over 10 s of class, the teacher's upload.
    const cpu = () => {
      const fields = readFileSync(`/proc/${env.server.pid()}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    const sent = () =>
      teacher.page.evaluate(async () => {
        const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
        const layers = {};
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) layers[s.rid] = { bytes: s.bytesSent, height: s.frameHeight ?? 0 };
        });
        return layers;
      });
    const [cpu0, sent0] = [cpu(), await sent()];
    await teacher.page.waitForTimeout(10_000);
    const [cpu1, sent1] = [cpu(), await sent()];
    const layers = Object.entries(sent1)
      .map(([rid, s]) => `${rid} ${s.height}p ${Math.round(((s.bytes - (sent0[rid]?.bytes ?? 0)) * 8) / 10_000)} kbit/s`)
      .join(', ');
    console.log(`# class of 1+${PUPILS}: the last pupil's first picture ${firstFrame} ms after Admit; server CPU ${Math.round((cpu1 - cpu0) * 10)} % of a core over 10 s; the teacher sends ${layers}`);

    // Every pupil hears the teacher.
    for (const pupil of pupils) assert.ok((await audioGrowth(pupil.page, 1000)) > 0, 'a pupil hears the teacher');

    // Pupil 1's page forces its microphone on: the teacher hears nothing.
    const forced = pupils[0].page;
    await forced.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
      await pc.getSenders()[0].replaceTrack(stream.getAudioTracks()[0]);
    });
    await teacher.page.waitForTimeout(500);
    assert.equal(await audioGrowth(teacher.page), 0, 'a pupil not let speak reaches nobody');

    // Let speak: heard. Muted: not, at once.
    await personAction(teacher.page, 'Pupil 1', 'Let Pupil 1 speak');
    await forced.getByText('The host lets you speak').waitFor();
    await toggles.microphone(forced).click();
    await teacher.page.waitForTimeout(1000);
    assert.ok((await audioGrowth(teacher.page)) > 0, 'heard once let speak');
    await personAction(teacher.page, 'Pupil 1', 'Mute Pupil 1');
    await forced.getByText('The host muted your microphone.').waitFor();
    // Forced on again by the page: still not heard.
    await forced.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
      await pc.getSenders()[0].replaceTrack(stream.getAudioTracks()[0]);
    });
    await teacher.page.waitForTimeout(500);
    assert.equal(await audioGrowth(teacher.page), 0, 'muted: no longer forwarded');
  });
});
