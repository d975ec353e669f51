// How large a class this machine carries: a teacher, then pupils added one
// at a time (each a Chromium page with a fake camera and microphone), all
// through the media server, until the newest pupil sees the teacher at
// under 80 % of the frame rate the first pupil saw, or MAX_PUPILS is
// reached. Prints one line per step: pupils, the newest pupil's frame rate
// of the teacher, the server's CPU over that step. Not part of `make test`:
// the two cores are shared with builds. Run inside the loopback namespace:
//
//   cd end2end && HUDDLE_BIN=$PWD/../target/release/huddle HUDDLE_SITE_ROOT=$PWD/../target/site \
//     unshare --net -- bash -c 'ip link set lo up && exec node bench/class-ramp.mjs'
import { readFileSync } from 'node:fs';
import { hostWithRoom, joinCall, launchChromium, newPerson, startServer } from '../tests/support.mjs';

const MAX_PUPILS = Number(process.env.MAX_PUPILS ?? 40);
const STEP_MS = 5_000;

const server = await startServer({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0' });
const browser = await launchChromium();
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${server.pid()}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** The highest frame rate among the page's incoming videos (the teacher's,
 * shown largest). */
const bestFps = (page) =>
  page.evaluate(async () => {
    const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
    if (!pc) return 0;
    let best = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') best = Math.max(best, s.framesPerSecond ?? 0);
    });
    return best;
  });

try {
  const { host: teacher, joinLink: link } = await hostWithRoom(browser, server.origin, 'Big class', 'Ms. Teacher', 'Class');
  await joinCall(teacher, link);
  let first = null;
  for (let n = 1; n <= MAX_PUPILS; n++) {
    const pupil = await newPerson(browser);
    await joinCall(pupil, link, `Pupil ${n}`);
    await pupil.page.getByText('Waiting for the host to let you in.').waitFor({ timeout: 60_000 });
    await teacher.page.getByRole('button', { name: `Admit Pupil ${n}` }).click();
    await pupil.page.waitForFunction(() => [...document.querySelectorAll('.tile.remote video')].some((v) => v.videoWidth > 0), null, { timeout: 60_000 });
    const cpu0 = cpuSeconds();
    await pupil.page.waitForTimeout(STEP_MS);
    const cpu = Math.round(((cpuSeconds() - cpu0) * 100_000) / STEP_MS);
    const fps = await bestFps(pupil.page);
    first ??= fps;
    console.log(`pupils ${n}: newest pupil sees the teacher at ${fps.toFixed(1)} fps; server CPU ${cpu} % of a core`);
    if (fps < 0.8 * first) {
      console.log(`carried: ${n - 1} pupils (at ${n} the frame rate fell under 80 % of ${first.toFixed(1)} fps)`);
      break;
    }
    if (n === MAX_PUPILS) console.log(`carried: all ${n} pupils`);
  }
} finally {
  await browser.close();
  await server.stop();
}
