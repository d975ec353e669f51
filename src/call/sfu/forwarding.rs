//! Forwarding: each packet a browser sends, checked against its sender's
//! grant and written to every receiver's slot that carries it, switching
//! layers on keyframes; and the keyframes asked for on their behalf.

use std::sync::Arc;

use super::*;

/// One packet from a sender, as every receiver's slot needs it: read once.
#[derive(Clone, Copy)]
pub(super) struct Incoming<'a> {
    feed: Feed,
    rid: Option<Rid>,
    packet: &'a RtpPacket,
    spec: CodecSpec,
    keyframe: bool,
    numbers: Numbers,
    vp8: Option<Vp8Descriptor>,
    temporal: Option<Temporal>,
    red: bool,
}

impl Sfu {
    /// One packet from `from`'s browser: counted, checked against their
    /// grant, and written to every slot that carries it.
    pub(super) fn forward(&mut self, from: ParticipantId, packet: RtpPacket, now: Instant) {
        let Some(client) = self.clients.get_mut(&from) else { return };
        let room = client.grant.room;
        let Some(rtc) = client.rtc.as_mut() else { return };
        let Some((mid, rid)) = rtc.direct_api().stream_rx(&packet.header.ssrc).map(|s| (s.mid(), s.rid())) else { return };
        // The codec, and whether the payload is wrapped in redundancy (RED:
        // each packet also carries the one before, for a lossy link).
        let params = rtc.codec_config().params();
        let pt = packet.header.payload_type;
        let (spec, red) = match params.iter().find(|p| p.pt() == pt) {
            Some(p) => (Some(p.spec()), false),
            None => (params.iter().find(|p| p.red() == Some(pt)).map(|p| p.spec()), true),
        };
        let Some(source) = client.sends.iter().find(|t| t.mid == mid).map(|t| t.source) else { return };
        let allowed = client.forwards(source);
        let Some(track) = client.sends.iter_mut().find(|t| t.mid == mid) else { return };
        track.started.get_or_insert(now);
        // Parsed once here, not once per receiver.
        let temporal = source.is_video().then(|| temporal(&packet.payload)).flatten();
        let layer = track.layers.entry(rid).or_default();
        layer.count(packet.payload.len() as u64, temporal.map(|t| t.tid), now);
        let vp8 = vp8_of(source, &packet.payload);
        let keyframe = vp8.is_some_and(|d| d.starts_keyframe(&packet.payload));
        if keyframe {
            if let Some(height) = vp8_height(&packet.payload) {
                layer.height = height;
            }
        }
        if source == MediaSource::Microphone || source == MediaSource::ScreenAudio {
            if let Some(level) = packet.header.ext_vals.audio_level {
                track.voice.heard(level, now);
            }
        }
        // The call's rules (`Client::forwards`): what they do not allow is
        // counted above, never forwarded.
        if !allowed {
            return;
        }
        let Some(spec) = spec else { return };
        let numbers = Numbers {
            seq: *packet.seq_no,
            ts: packet.header.timestamp,
            pid: vp8.and_then(|d| d.picture_id()),
            tl0: vp8.and_then(|d| d.tl0_pic_idx()),
        };
        let incoming = Incoming { feed: Feed { who: from, source }, rid, packet: &packet, spec, keyframe, numbers, vp8, temporal, red };
        let receivers: Vec<ParticipantId> =
            self.clients.iter().filter(|(who, c)| **who != from && c.grant.room == room && c.rtc.is_some()).map(|(who, _)| *who).collect();
        let mut failed = Vec::new();
        for to in receivers {
            if self.write_to(to, &incoming).is_err() {
                failed.push(to);
            }
        }
        for to in failed {
            self.drop_client(to, true, now);
        }
    }

    /// Writes `incoming` to `to`'s slot that carries it. `Err` when `to`'s
    /// connection panicked.
    pub(super) fn write_to(&mut self, to: ParticipantId, incoming: &Incoming<'_>) -> Result<(), ()> {
        let Incoming { feed, rid, packet, spec, keyframe, numbers, vp8, temporal, red } = *incoming;
        let Some(client) = self.clients.get_mut(&to) else { return Ok(()) };
        let Some(rtc) = client.rtc.as_mut() else { return Ok(()) };
        let video = feed.source.is_video();
        let slots = if video { &mut client.video } else { &mut client.audio };
        let Some(slot) = slots.iter_mut().find(|s| s.feed == Some(feed)) else { return Ok(()) };
        if video {
            if slot.target == Some(rid) && slot.current != Some(rid) {
                // A layer (or source) switch waits for a keyframe of it.
                if !keyframe {
                    return Ok(());
                }
                slot.current = Some(rid);
                slot.tid = slot.tid_target;
                slot.asked_at = None;
                slot.rebase.switch(numbers, 3_000);
            } else if slot.current.is_none() && slot.start == Some(rid) && keyframe {
                // A lower layer until the target's keyframe, every picture of it.
                slot.current = Some(rid);
                slot.tid = None;
                slot.rebase.switch(numbers, 3_000);
            }
            if slot.current != Some(rid) {
                return Ok(());
            }
            if let Some(t) = temporal {
                // A new frame rate from the next picture of the base layer
                // (which depends on no other), so every picture sent can be
                // decoded.
                if slot.tid != slot.tid_target && t.tid == 0 && t.starts_picture {
                    slot.tid = slot.tid_target;
                }
                if slot.tid.is_some_and(|max| t.tid > max) {
                    slot.rebase.skip(numbers);
                    return Ok(());
                }
            }
        } else if !slot.rebase.started() {
            slot.rebase.switch(numbers, 960);
        }
        let Some(out) = slot.rebase.map(numbers) else { return Ok(()) };
        let (pt, unwrap) = match slot.pts.get(&packet.header.payload_type) {
            Some(&mapped) => mapped,
            None => {
                let Some(theirs) = rtc.codec_config().params().iter().find(|p| p.spec() == spec) else { return Ok(()) };
                // Redundancy goes on to a receiver that agreed to it; one
                // that did not gets the packet's own sound.
                let mapped = match (red, theirs.red()) {
                    (true, Some(red_pt)) => (red_pt, false),
                    (true, None) => (theirs.pt(), true),
                    (false, _) => (theirs.pt(), false),
                };
                slot.pts.insert(packet.header.payload_type, mapped);
                mapped
            }
        };
        let payload = if unwrap {
            let Some(primary) = red_primary(&packet.payload) else { return Ok(()) };
            Arc::from(primary)
        } else {
            packet.payload.clone()
        };
        let mid = slot.mid;
        let mut write = RtpWrite::new(pt, out.seq.into(), out.ts, packet.timestamp, payload).marker(packet.header.marker).nackable(video);
        if let Some(level) = packet.header.ext_vals.audio_level {
            write = write.ext_vals(ExtensionValues {
                audio_level: Some(level),
                voice_activity: packet.header.ext_vals.voice_activity,
                ..Default::default()
            });
        }
        if let (Some(pid), Some(descriptor)) = (out.pid, vp8) {
            let mut patch = descriptor.patch().picture_id(pid);
            if let Some(tl0) = out.tl0 {
                patch = patch.tl0_pic_idx(tl0);
            }
            if let Ok(patch) = patch.build() {
                write = write.vp8_patch(patch);
            }
        }
        let written = catch_unwind(AssertUnwindSafe(|| {
            if let Some(stream) = rtc.direct_api().stream_tx_by_mid(mid, None) {
                stream.write_rtp(write);
            }
        }));
        if written.is_err() {
            return Err(());
        }
        // Sent when the settle loop comes to it, with whatever else it was
        // given meanwhile.
        self.touch(to);
        Ok(())
    }

    /// Asks `feed`'s sender for a keyframe of layer `rid`, spaced.
    pub(super) fn ask_keyframe(&mut self, feed: Feed, rid: Option<Rid>, now: Instant) {
        let Some(client) = self.clients.get_mut(&feed.who) else { return };
        let Some(mid) = client.track(feed.source).map(|t| t.mid) else { return };
        if !self.keyframes.allow((feed.who, mid, rid), now) {
            return;
        }
        let Some(rtc) = client.rtc.as_mut() else { return };
        let asked = catch_unwind(AssertUnwindSafe(|| {
            if let Some(stream) = rtc.direct_api().stream_rx_by_mid(mid, rid) {
                stream.request_keyframe(KeyframeRequestKind::Pli);
            }
        }));
        if asked.is_err() {
            return self.drop_client(feed.who, true, now);
        }
        self.touch(feed.who);
    }

    /// Slots still waiting for their keyframe ask again (the first request
    /// is often lost), every 250 ms at first, then each second.
    pub(super) fn retry_keyframes(&mut self, now: Instant) {
        let mut asks = Vec::new();
        for client in self.clients.values_mut() {
            for slot in &mut client.video {
                let (Some(feed), Some(target)) = (slot.feed, slot.target) else { continue };
                if slot.current == Some(target) {
                    continue;
                }
                let wait = if slot.asked_at.is_some() { Duration::from_secs(1) } else { Duration::from_millis(250) };
                if slot.asked_at.is_none_or(|at| now.saturating_duration_since(at) >= wait) {
                    slot.asked_at = Some(now);
                    asks.push((feed, target));
                    // And the lower layer that shows first, while nothing does.
                    if let (None, Some(start)) = (slot.current, slot.start) {
                        asks.push((feed, start));
                    }
                }
            }
        }
        for (feed, rid) in asks {
            self.ask_keyframe(feed, rid, now);
        }
    }
}

/// The packet's own payload inside a RED one (RFC 2198): after the
/// headers of the redundant blocks (4 bytes each, F bit set) and the
/// primary's (1 byte), and after the redundant blocks themselves.
pub(super) fn red_primary(payload: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    let mut redundant = 0usize;
    loop {
        let first = *payload.get(at)?;
        if first & 0x80 == 0 {
            at += 1;
            break;
        }
        let block = payload.get(at..at + 4)?;
        redundant += usize::from(u16::from_be_bytes([block[2], block[3]]) & 0x03ff);
        at += 4;
    }
    payload.get(at + redundant..)
}

#[cfg(test)]
mod tests {
    use super::red_primary;

    #[test]
    fn a_red_payloads_own_sound_is_found_after_the_redundancy() {
        // One redundant block of 3 bytes (PT 111, offset 960), then the primary.
        let red = [0x80 | 111, 0x0f, 0x00, 0x03, 111, 1, 2, 3, 9, 8, 7, 6];
        assert_eq!(red_primary(&red), Some(&[9u8, 8, 7, 6][..]));
        assert_eq!(red_primary(&[111, 5, 5]), Some(&[5u8, 5][..]), "no redundancy yet");
        assert_eq!(red_primary(&[0x80 | 111, 0x0f, 0x00, 0x09, 111, 1]), None, "a block longer than the packet");
        assert_eq!(red_primary(&[0x80 | 111, 0x0f]), None, "cut short");
    }
}
