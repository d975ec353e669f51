//! One outgoing slot's numbering. A slot carries one source at a time (a
//! person's camera at one layer, their screen, a voice) and changes source
//! when the layout or the layer changes. The receiver must see one stream
//! whose sequence numbers, timestamps and VP8 picture ids run on without a
//! gap or a step back, or its decoder stalls: so each packet's numbers are
//! rebased on the way out, and a new source continues where the last left
//! off (Galène's `packetmap`, LiveKit's munger).

/// Where one slot's numbering stands.
#[derive(Debug, Clone, Default)]
pub struct Rebase {
    /// Outgoing = incoming + offset (wrapping): sequence numbers (extended,
    /// 64 bits), RTP timestamps (32 bits), picture ids (15 bits), TL0PICIDX
    /// (8 bits).
    seq_offset: u64,
    ts_offset: u32,
    pid_offset: u16,
    tl0_offset: u8,
    /// The incoming sequence number that began the current source: anything
    /// older is from before the switch and would step back.
    first_in: u64,
    last: Option<Sent>,
    started: bool,
}

/// The last numbers sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub seq: u64,
    pub ts: u32,
    pub pid: Option<u16>,
    pub tl0: Option<u8>,
}

/// One incoming packet's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbers {
    pub seq: u64,
    pub ts: u32,
    pub pid: Option<u16>,
    pub tl0: Option<u8>,
}

/// The first outgoing sequence number of a slot: low enough that the
/// receiver's rollover counter starts at 0 (see `RtpWrite::new`).
const FIRST_SEQ: u64 = 1_000;
const PID_MASK: u16 = 0x7fff;

impl Rebase {
    /// The next packet comes from a new source (or layer), starting with
    /// `first`; `gap` is how far its timestamps should move on from the last
    /// packet sent (about one frame, or one audio packet).
    pub fn switch(&mut self, first: Numbers, gap: u32) {
        let (seq, ts, pid, tl0) = match self.last {
            Some(last) => (last.seq + 1, last.ts.wrapping_add(gap), last.pid.map(|p| (p + 1) & PID_MASK), last.tl0.map(|t| t.wrapping_add(1))),
            None => (FIRST_SEQ, first.ts, first.pid, first.tl0),
        };
        self.seq_offset = seq.wrapping_sub(first.seq);
        self.ts_offset = ts.wrapping_sub(first.ts);
        self.pid_offset = match (pid, first.pid) {
            (Some(out), Some(inn)) => out.wrapping_sub(inn) & PID_MASK,
            _ => 0,
        };
        self.tl0_offset = match (tl0, first.tl0) {
            (Some(out), Some(inn)) => out.wrapping_sub(inn),
            _ => 0,
        };
        self.first_in = first.seq;
        self.started = true;
    }

    /// The outgoing numbers for `packet`, or `None` when it predates the
    /// current source (a late packet of the old one, or a resend of
    /// something before the switch) or no source was set.
    pub fn map(&mut self, packet: Numbers) -> Option<Numbers> {
        if !self.started || packet.seq < self.first_in {
            return None;
        }
        let out = Numbers {
            seq: packet.seq.wrapping_add(self.seq_offset),
            ts: packet.ts.wrapping_add(self.ts_offset),
            pid: packet.pid.map(|p| p.wrapping_add(self.pid_offset) & PID_MASK),
            tl0: packet.tl0.map(|t| t.wrapping_add(self.tl0_offset)),
        };
        let newer = self.last.is_none_or(|last| out.seq > last.seq);
        if newer {
            self.last = Some(Sent {
                seq: out.seq,
                ts: out.ts,
                pid: out.pid.or(self.last.and_then(|l| l.pid)),
                tl0: out.tl0.or(self.last.and_then(|l| l.tl0)),
            });
        }
        Some(out)
    }

    /// `packet` is not sent (a temporal layer above what the receiver gets):
    /// the numbering closes up behind it, so the receiver sees no gap to
    /// ask for, and anything older is refused from now on (it would take a
    /// number already sent). A late one changes nothing.
    pub fn skip(&mut self, packet: Numbers) {
        if !self.started || packet.seq < self.first_in {
            return;
        }
        let newer = self.last.is_none_or(|last| packet.seq.wrapping_add(self.seq_offset) > last.seq);
        if newer {
            self.seq_offset = self.seq_offset.wrapping_sub(1);
            self.first_in = packet.seq + 1;
        }
    }

    /// The next packet begins a new source, whose first packet decides the
    /// offsets (see [`Rebase::switch`]).
    pub fn restart(&mut self) {
        self.started = false;
    }

    /// Whether a source is set.
    pub fn started(&self) -> bool {
        self.started
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(seq: u64, ts: u32, pid: u16) -> Numbers {
        Numbers { seq, ts, pid: Some(pid), tl0: Some(pid as u8) }
    }

    #[test]
    fn a_first_source_starts_low_and_keeps_its_own_timestamps() {
        let mut r = Rebase::default();
        assert_eq!(r.map(n(70_000, 5, 9)), None, "nothing before a source is chosen");
        r.switch(n(70_000, 90_000, 300), 3000);
        let out = r.map(n(70_000, 90_000, 300)).unwrap();
        assert_eq!((out.seq, out.ts, out.pid), (FIRST_SEQ, 90_000, Some(300)));
        let out = r.map(n(70_001, 93_000, 301)).unwrap();
        assert_eq!((out.seq, out.ts, out.pid), (FIRST_SEQ + 1, 93_000, Some(301)));
    }

    #[test]
    fn a_switch_continues_where_the_last_source_left_off() {
        let mut r = Rebase::default();
        r.switch(n(10, 1_000, 5), 3000);
        for i in 0..5 {
            r.map(n(10 + i, 1_000 + 3000 * i as u32, 5 + i as u16));
        }
        // The other layer: unrelated numbers, its timestamp near wrapping.
        r.switch(n(40_000, u32::MAX - 100, 32_760), 3000);
        let out = r.map(n(40_000, u32::MAX - 100, 32_760)).unwrap();
        assert_eq!(out.seq, FIRST_SEQ + 5, "one after the last sent");
        assert_eq!(out.ts, 1_000 + 3000 * 4 + 3000, "one frame after the last sent");
        assert_eq!(out.pid, Some(10), "picture ids run on");
        assert_eq!(out.tl0, Some(10));
        let next = r.map(n(40_001, 2_899, 32_767)).unwrap();
        assert_eq!(next.seq, out.seq + 1);
        assert_eq!(next.ts, out.ts.wrapping_add(3000), "timestamps wrap with the source");
        assert_eq!(next.pid, Some(17));
        let wrapped = r.map(n(40_002, 5_900, 0)).unwrap();
        assert_eq!(wrapped.pid, Some(18), "the 15-bit picture id wraps with the source");
    }

    #[test]
    fn packets_not_sent_leave_no_gap_in_the_numbering() {
        let mut r = Rebase::default();
        r.switch(n(10, 0, 1), 3000);
        assert_eq!(r.map(n(10, 0, 1)).unwrap().seq, FIRST_SEQ);
        // A picture of a higher temporal layer, two packets, not sent.
        r.skip(n(11, 3000, 2));
        r.skip(n(12, 3000, 2));
        let next = r.map(n(13, 6000, 3)).unwrap();
        assert_eq!(next.seq, FIRST_SEQ + 1, "the next one sent follows on");
        assert_eq!((next.ts, next.pid), (6000, Some(3)), "timestamps and picture ids keep their own");
        // A late packet from before the skip would take a number in use.
        assert!(r.map(n(9, 0, 0)).is_none());
        // A late skipped one moves nothing.
        r.skip(n(12, 3000, 2));
        assert_eq!(r.map(n(14, 6000, 3)).unwrap().seq, FIRST_SEQ + 2);
    }

    #[test]
    fn a_late_packet_of_the_old_source_is_not_sent_after_a_switch() {
        let mut r = Rebase::default();
        r.switch(n(100, 0, 1), 960);
        r.map(n(100, 0, 1));
        r.switch(n(500, 0, 1), 960);
        assert!(r.map(n(499, 0, 1)).is_none(), "from before the switch");
        assert!(r.map(n(500, 0, 1)).is_some());
        // A resend inside the current source keeps its own number.
        r.map(n(502, 1920, 3));
        let resent = r.map(n(501, 960, 2)).unwrap();
        assert_eq!(resent.seq, FIRST_SEQ + 2);
    }
}
