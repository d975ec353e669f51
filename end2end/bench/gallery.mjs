// What a teacher's page costs with a gallery of 9 and of 25 pupils: the
// teacher is Chromium (1280 × 800 unless VIEWPORT says, the gallery as it fits), the pupils are
// `sfuload --join` peers replaying real VP8 (bench/clips.sh) through the
// media server, so only the teacher's page decodes and draws. Measured over
// MEASURE_MS after SETTLE_MS: the frames each tile decodes a second, the
// layer's height, frames dropped, Chromium's CPU (all its processes: only
// the teacher's page is open) and the server's. Not part of `make test`.
// Run inside the loopback namespace, after a release build of the server
// and of sfuload (bench/sfuload.sh builds both):
//
//   bench/clips.sh /tmp/clips
//   cd end2end && HUDDLE_BIN=$PWD/../target/release/huddle HUDDLE_SITE_ROOT=$PWD/../target/site \
//     unshare --net -- bash -c 'ip link set lo up && exec node bench/gallery.mjs'
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hostWithRoom, joinCall, launchChromium, startServer, waitForRemoteVideos } from '../tests/support.mjs';

const SIZES = (process.env.PUPILS ?? '9,25').split(',').map(Number);
// The teacher's window, e.g. VIEWPORT=1920x1080 for a gallery of 49.
const [WIDTH, HEIGHT] = (process.env.VIEWPORT ?? '1280x800').split('x').map(Number);
const CLIPS = process.env.CLIPS ?? '/tmp/clips';
const SFULOAD = process.env.SFULOAD ?? new URL('../../target/release/examples/sfuload', import.meta.url).pathname;
const SETTLE_MS = 5_000;
const MEASURE_MS = 20_000;

/** CPU seconds used so far by `pid`, or by every process named `name`. */
const ticks = (stat) => {
  const fields = stat.split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const cpuOf = (pid) => ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const cpuNamed = (name) => {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(`(${name})`)) sum += ticks(stat);
    } catch {
      // Gone meanwhile.
    }
  }
  return sum;
};
/** Per incoming picture: frames decoded and dropped so far, and height. */
const pictures = (page) =>
  page.evaluate(async () => {
    const pc = window.__peerConnections.find((pc) => pc.connectionState !== 'closed');
    const out = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) out[s.mid] = { decoded: s.framesDecoded, dropped: s.framesDropped ?? 0, height: s.frameHeight ?? 0 };
    });
    return out;
  });

for (const pupils of SIZES) {
  // A room for the whole gallery and its teacher (the default is 42: 40 pupils, a teacher and a helper).
  const server = await startServer({ HUDDLE_MEDIA_ADDR: '127.0.0.1:0', HUDDLE_SFU_ROOM_SIZE: String(Math.max(42, pupils + 1)) });
  const browser = await launchChromium();
  let load;
  try {
    const size = { width: WIDTH, height: HEIGHT };
    const { host: teacher, joinLink: link } = await hostWithRoom(browser, server.origin, 'Gallery', 'Ms. Teacher', 'Class', { viewport: size, screen: size });
    await joinCall(teacher, link);
    const seconds = Math.ceil((60_000 + SETTLE_MS + MEASURE_MS) / 1000);
    load = spawn('taskset', ['-c', '1', SFULOAD, '--join', link, '--pupils', String(pupils), '--pictures', CLIPS, '--seconds', String(seconds)], { stdio: 'inherit' });
    await teacher.page.getByRole('heading', { name: `${pupils} people are waiting to join` }).waitFor({ timeout: 30_000 });
    await teacher.page.getByRole('button', { name: 'Admit all' }).click();
    await waitForRemoteVideos(teacher.page, pupils, 60_000);
    await teacher.page.waitForTimeout(SETTLE_MS);
    const [before, chromium0, server0] = [await pictures(teacher.page), cpuNamed('chromium'), cpuOf(server.pid())];
    await teacher.page.waitForTimeout(MEASURE_MS);
    const [after, chromium1, server1] = [await pictures(teacher.page), cpuNamed('chromium'), cpuOf(server.pid())];
    const rates = Object.keys(after)
      .map((mid) => ((after[mid].decoded - (before[mid]?.decoded ?? 0)) * 1000) / MEASURE_MS)
      .sort((a, b) => a - b);
    const dropped = Object.keys(after).reduce((sum, mid) => sum + after[mid].dropped - (before[mid]?.dropped ?? 0), 0);
    const heights = [...new Set(Object.values(after).map((p) => p.height))].join('/');
    const share = (seconds) => Math.round((seconds * 100_000) / MEASURE_MS);
    console.log(
      `gallery of ${pupils}: ${rates.length} pictures at ${heights}p, ${rates[0].toFixed(1)} to ${rates[rates.length - 1].toFixed(1)} frames a second each ` +
        `(${rates.reduce((a, b) => a + b, 0).toFixed(0)} in all), ${dropped} dropped; Chromium ${share(chromium1 - chromium0)} % of a core, the server ${share(server1 - server0)} %`,
    );
  } finally {
    load?.kill();
    await browser.close();
    await server.stop();
  }
}
