#!/usr/bin/env bash
# Real VP8 for sfuload to replay to a browser (`sfuload --join ...
# --pictures DIR`): a 2-second moving test picture with a little noise (so
# the encoder spends what a camera's picture costs), encoded by Debian's
# vpxenc (`scripts/tools.sh bench`) in the three layers a camera sends, as
# Huddle asks for them: q 320 × 180 at 150 kbit/s, h 640 × 360 at 500, f
# 1280 × 720 at 1,200; a keyframe each second.
#
#   bench/clips.sh /tmp/clips      # writes q.ivf, h.ivf, f.ivf there
set -euo pipefail
out=${1:?usage: bench/clips.sh DIR}
mkdir -p "$out"
for layer in q:320:180:150 h:640:360:500 f:1280:720:1200; do
  IFS=: read -r name width height kbps <<<"$layer"
  [ -s "$out/$name.ivf" ] && continue
  node - "$width" "$height" "$out/$name.y4m" <<'JS'
const [w, h, path] = process.argv.slice(2).map((v, i) => (i < 2 ? Number(v) : v));
const fs = require('node:fs');
const fd = fs.openSync(path, 'w');
fs.writeSync(fd, `YUV4MPEG2 W${w} H${h} F30:1 Ip A1:1 C420jpeg\n`);
let seed = 1;
const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) % 9;
for (let f = 0; f < 60; f++) {
  const y = Buffer.alloc(w * h);
  // A diagonal gradient sliding right, a square bouncing across it.
  const bx = Math.round((w / 2) * (1 + Math.sin(f / 9.5))) % w;
  const by = Math.round((h / 3) * (1 + Math.cos(f / 7)));
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const inBox = c >= bx && c < bx + w / 6 && r >= by && r < by + h / 4;
      y[r * w + c] = inBox ? 235 : (((c + r + f * 4) * 255) / (w + h)) % 200 + 16 + noise();
    }
  }
  const u = Buffer.alloc((w / 2) * (h / 2), 128 + (f % 30));
  const v = Buffer.alloc((w / 2) * (h / 2), 100);
  fs.writeSync(fd, 'FRAME\n');
  fs.writeSync(fd, y);
  fs.writeSync(fd, u);
  fs.writeSync(fd, v);
}
fs.closeSync(fd);
JS
  vpxenc --quiet --codec=vp8 --ivf --rt --cpu-used=8 --end-usage=cbr --target-bitrate="$kbps" \
    --kf-min-dist=30 --kf-max-dist=30 --fps=30/1 -o "$out/$name.ivf" "$out/$name.y4m"
  rm -f "$out/$name.y4m"
done
ls -l "$out"
