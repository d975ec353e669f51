//! What the media server reads of a VP8 payload: its descriptor, whether
//! it begins a keyframe, and the picture height a keyframe declares.

use str0m::rtp::Vp8Descriptor;

use crate::call::protocol::MediaSource;

/// The VP8 payload descriptor of a video packet. Audio has none: an Opus
/// payload can look like one, and patching it would corrupt the sound.
pub(super) fn vp8_of(source: MediaSource, payload: &[u8]) -> Option<Vp8Descriptor> {
    source.is_video().then(|| Vp8Descriptor::parse(payload).ok()).flatten()
}

/// Whether a VP8 payload begins a keyframe.
pub(super) fn is_keyframe(payload: &[u8]) -> bool {
    Vp8Descriptor::parse(payload).is_ok_and(|d| d.starts_keyframe(payload))
}

/// The picture height a VP8 keyframe's first packet declares (RFC 6386
/// 9.1: after the 3-byte frame tag, the start code 9d 01 2a, then 14-bit
/// width and height).
pub(super) fn vp8_height(payload: &[u8]) -> Option<u32> {
    let descriptor_len = {
        let mut n = 1;
        if payload.first()? & 0x80 != 0 {
            let x = *payload.get(1)?;
            n += 1;
            if x & 0x80 != 0 {
                n += if payload.get(n)? & 0x80 != 0 { 2 } else { 1 };
            }
            if x & 0x40 != 0 {
                n += 1;
            }
            if x & 0x30 != 0 {
                n += 1;
            }
        }
        n
    };
    let frame = payload.get(descriptor_len..)?;
    if frame.len() < 10 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    Some(u32::from(u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff))
}

/// Where a VP8 packet sits among temporal layers (RFC 7741 4.2): its
/// temporal layer (0 is the base, which never depends on the others) and
/// whether it begins a picture. `None` when the sender uses no temporal
/// layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Temporal {
    pub(super) tid: u8,
    pub(super) starts_picture: bool,
}

/// The temporal layer of a VP8 packet, from its payload descriptor.
pub(super) fn temporal(payload: &[u8]) -> Option<Temporal> {
    let first = *payload.first()?;
    // X: the extension byte follows; S with partition 0: a picture begins.
    if first & 0x80 == 0 {
        return None;
    }
    let starts_picture = first & 0x10 != 0 && first & 0x0f == 0;
    let extension = *payload.get(1)?;
    let mut at = 2;
    if extension & 0x80 != 0 {
        at += if payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
    }
    if extension & 0x40 != 0 {
        at += 1;
    }
    // T: the TID/Y/KEYIDX byte carries the temporal layer.
    if extension & 0x20 == 0 {
        return None;
    }
    Some(Temporal { tid: payload.get(at)? >> 6, starts_picture })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packets_temporal_layer_is_read_from_its_descriptor() {
        // X, S, partition 0; I (15-bit picture id), L, T; TID 2, Y.
        let t2 = [0x90, 0xe0, 0x80, 0x01, 0x07, 0xa0, 0x00];
        assert_eq!(temporal(&t2), Some(Temporal { tid: 2, starts_picture: true }));
        // A 7-bit picture id, no TL0PICIDX, TID 0, a later packet of the picture.
        let t0 = [0x80, 0xa0, 0x05, 0x00, 0x00];
        assert_eq!(temporal(&t0), Some(Temporal { tid: 0, starts_picture: false }));
        // Partition 1 begins no picture even with S.
        assert_eq!(temporal(&[0x91, 0xa0, 0x05, 0x40]).map(|t| (t.tid, t.starts_picture)), Some((1, false)));
        assert_eq!(temporal(&[0x90, 0x80, 0x05, 0x00]), None, "no T bit: no temporal layers");
        assert_eq!(temporal(&[0x10, 0x00]), None, "no extension");
        assert_eq!(temporal(&[0x90, 0xa0]), None, "cut short");
    }
}
