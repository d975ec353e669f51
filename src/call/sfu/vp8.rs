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
