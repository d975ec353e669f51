//! The media server driven with in-memory browsers ([`peer::Peer`]: str0m
//! peers offering what Huddle's page offers) on an in-memory network with a
//! hand-moved clock. No sockets, no waiting.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::media::{Direction, MediaKind, Mid};

use super::participant::STALE;
use super::peer::{Got, Offer, Peer, AUDIO_LAYER, SCREEN_LAYER};
use super::stun::{PROBE_ANSWERS_PER_SECOND, PROBE_ANSWERS_PER_SOURCE};
use super::*;

mod groups;
mod links;

const ROOM: RoomId = RoomId(7);
const LATENCY: Duration = Duration::from_millis(1);
const STEP: Duration = Duration::from_millis(2);

struct World {
    now: Instant,
    sfu: Sfu,
    browsers: Vec<Peer>,
    /// Datagrams in flight: (deliver at, from, to, bytes).
    wire: Vec<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
    server: SocketAddr,
    /// What each participant's signaling connection was told.
    told: HashMap<ParticipantId, Vec<ServerMessage>>,
    /// Narrow links into a browser: its address, their rate in bits per
    /// second and when the link is next free (`squeeze`).
    narrow: HashMap<SocketAddr, (u64, Instant)>,
    /// Links into a browser that lose a share of what they carry, in
    /// hundredths (`lose`).
    lossy: HashMap<SocketAddr, u64>,
    /// Datagrams sent on lossy links, which decides the next one lost.
    rolls: u64,
    /// Datagrams a narrow or lossy link dropped.
    dropped: usize,
    /// Of those, the ones a narrow link's full queue dropped.
    overflowed: usize,
}

/// What each datagram carries on the wire beyond its UDP payload (IPv4 and
/// UDP headers), which a narrow link's rate counts too.
const IP_UDP_BYTES: u64 = 28;

/// How long a narrow link's queue may grow before it drops what comes.
const QUEUE: Duration = Duration::from_millis(250);

fn grant(host: bool, audio: bool) -> Grant {
    Grant { room: ROOM, group: None, everywhere: false, host, audio, screen: host, camera_on: true, screen_on: false }
}

impl World {
    fn new() -> Self {
        let server: SocketAddr = "10.0.0.1:7882".parse().unwrap();
        Self {
            now: Instant::now(),
            sfu: Sfu::new(Config { address: server }),
            browsers: Vec::new(),
            wire: Vec::new(),
            server,
            told: HashMap::new(),
            narrow: HashMap::new(),
            lossy: HashMap::new(),
            rolls: 0,
            dropped: 0,
            overflowed: 0,
        }
    }

    /// A participant let in with `grant`, whose browser offers `offer` and
    /// gets connected.
    fn join(&mut self, id: u64, grant: Grant, offer: Offer) -> usize {
        self.join_as(id, grant, offer, Peer::new)
    }

    /// Like [`World::join`], with a browser made by `make` (e.g.
    /// [`Peer::with_red`]).
    fn join_as(&mut self, id: u64, grant: Grant, offer: Offer, make: fn(ParticipantId, SocketAddr, Instant) -> Peer) -> usize {
        let who = ParticipantId(id);
        self.sfu.command(Command::Grant { who, grant }, self.now);
        let index = self.browser_as(who, make);
        self.offer(index, offer);
        index
    }

    fn browser(&mut self, who: ParticipantId) -> usize {
        self.browser_as(who, Peer::new)
    }

    fn browser_as(&mut self, who: ParticipantId, make: fn(ParticipantId, SocketAddr, Instant) -> Peer) -> usize {
        let address: SocketAddr = format!("10.0.1.{}:5000", who.0).parse().unwrap();
        self.browsers.push(make(who, address, self.now));
        self.browsers.len() - 1
    }

    /// The packets of `audio` kind `viewer` received from `sender` since `mark`.
    fn got_from(&self, viewer: u64, sender: u64, audio: bool, mark: &HashMap<Mid, usize>) -> Vec<Got> {
        self.get(viewer).got_from(sender, audio, mark).copied().collect()
    }

    /// The video packets `viewer` received from `sender` since `mark`.
    fn video_from(&self, viewer: u64, sender: u64, mark: &HashMap<Mid, usize>) -> Vec<Got> {
        self.got_from(viewer, sender, false, mark)
    }

    /// The browser's offer, answered by the media server.
    fn offer(&mut self, index: usize, offer: Offer) {
        let (sdp, sources) = self.browsers[index].offer(offer);
        let who = self.browsers[index].who;
        self.sfu.command(Command::Offer { who, sdp, sources }, self.now);
        self.collect();
        let answer = self.told(who.0).iter().rev().find_map(|m| match m {
            ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
            _ => None,
        });
        self.browsers[index].accept(&answer.expect("an answer")).unwrap();
    }

    /// Takes what the media server produced.
    fn collect(&mut self) {
        for output in self.sfu.take_output() {
            match output {
                Output::Transmit { destination, data } => {
                    let mut at = self.now;
                    if let Some(percent) = self.lossy.get(&destination) {
                        // Spread evenly, the same in every run (a Weyl sequence).
                        self.rolls += 1;
                        if (self.rolls.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 100 < *percent {
                            self.dropped += 1;
                            continue;
                        }
                    }
                    if let Some((bps, free)) = self.narrow.get_mut(&destination) {
                        // Queued behind what the link still carries; dropped
                        // once the queue is full, as a router would.
                        let start = (*free).max(self.now);
                        if start - self.now > QUEUE {
                            self.dropped += 1;
                            self.overflowed += 1;
                            continue;
                        }
                        *free = start + Duration::from_micros((data.len() as u64 + IP_UDP_BYTES) * 8 * 1_000_000 / *bps);
                        at = *free;
                    }
                    self.wire.push((at + LATENCY, self.server, destination, data));
                }
                Output::Tell { to, message } => self.told.entry(to).or_default().push(message),
            }
        }
    }

    /// Runs the world for `time`.
    fn run(&mut self, time: Duration) {
        let end = self.now + time;
        while self.now < end {
            self.now += STEP;
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.wire).into_iter().partition(|(at, ..)| *at <= now);
            self.wire = later;
            for (_, from, to, data) in due {
                if to == self.server {
                    self.sfu.receive(now, from, &data);
                } else if let Some(b) = self.browsers.iter_mut().find(|b| b.address == to) {
                    b.receive(now, from, &data);
                }
            }
            self.collect();
            for b in &mut self.browsers {
                for (to, data) in b.step(now) {
                    self.wire.push((now + LATENCY, b.address, to, data));
                }
            }
            self.sfu.tick(now);
            self.collect();
        }
    }

    fn get(&self, who: u64) -> &Peer {
        self.browsers.iter().find(|b| b.who == ParticipantId(who)).unwrap()
    }

    fn get_mut(&mut self, who: u64) -> &mut Peer {
        self.browsers.iter_mut().find(|b| b.who == ParticipantId(who)).unwrap()
    }

    fn told(&self, who: u64) -> &[ServerMessage] {
        self.told.get(&ParticipantId(who)).map(Vec::as_slice).unwrap_or_default()
    }

    /// The mid of `viewer`'s slot that carries `sender`'s `source`, as the
    /// last `sfu_slots` said.
    fn slot_of(&self, viewer: u64, sender: u64, source: MediaSource) -> Option<Mid> {
        let slots = self.told(viewer).iter().rev().find_map(|m| match m {
            ServerMessage::SfuSlots { video, audio } => Some(video.iter().chain(audio).cloned().collect::<Vec<_>>()),
            _ => None,
        })?;
        slots.into_iter().find(|s| s.id == Some(ParticipantId(sender)) && s.source == Some(source)).map(|s| Mid::from(s.mid.as_str()))
    }

    /// Packets `viewer` received from `sender` since `mark`.
    fn heard(&self, viewer: u64, sender: u64, audio: bool, mark: &HashMap<Mid, usize>) -> usize {
        self.get(viewer).heard(sender, audio, mark)
    }

    fn mark(&self, viewer: u64) -> HashMap<Mid, usize> {
        self.get(viewer).mark()
    }

    /// The link from the server into `who`'s browser carries `bps` bits per
    /// second from now on (`None`: as much as is sent).
    fn squeeze(&mut self, who: u64, bps: Option<u64>) {
        let address = self.get(who).address;
        match bps {
            Some(bps) => self.narrow.insert(address, (bps, self.now)),
            None => self.narrow.remove(&address),
        };
    }

    /// The link from the server into `who`'s browser loses `percent` of
    /// what it carries from now on.
    fn lose(&mut self, who: u64, percent: u64) {
        let address = self.get(who).address;
        self.lossy.insert(address, percent);
    }

    /// `viewer`'s page shows `sender`'s camera `height` device pixels tall.
    fn view(&mut self, viewer: u64, sender: u64, height: u32) {
        let want = vec![VideoWant { id: ParticipantId(sender), source: MediaSource::Camera, height }];
        self.sfu.command(Command::View { who: ParticipantId(viewer), want }, self.now);
    }
}

/// A teacher (1) and `pupils` pupils (2, 3, ...), all connected; the
/// teacher sends camera and voice.
fn class(pupils: u64) -> World {
    let mut world = World::new();
    world.join(1, grant(true, true), Offer { screen: true, ..Offer::default() });
    for id in 2..2 + pupils {
        world.join(id, grant(false, false), Offer::default());
    }
    let teacher = world.get_mut(1);
    teacher.camera_on = true;
    teacher.level = Some(-20);
    world.run(Duration::from_millis(1_500));
    world
}

#[test]
fn every_pupil_sees_and_hears_the_teacher_over_one_connection_each() {
    let world = class(4);
    assert_eq!(world.sfu.connections(), 5);
    for pupil in 2..6 {
        let b = world.get(pupil);
        assert!(b.rtc.is_connected(), "pupil {pupil} connected");
        let video = world.slot_of(pupil, 1, MediaSource::Camera).expect("a slot shows the teacher");
        let audio = world.slot_of(pupil, 1, MediaSource::Microphone).expect("a slot carries the teacher's voice");
        let frames = b.got.get(&video).map_or(0, |p| p.iter().filter(|p| p.sender == 1).count());
        assert!(frames > 20, "pupil {pupil}: {frames} frames of the teacher");
        assert!(b.got.get(&video).unwrap().first().unwrap().keyframe, "the first frame forwarded is a keyframe");
        let voice = b.got.get(&audio).map_or(0, |p| p.iter().filter(|p| p.sender == 1).count());
        assert!(voice > 30, "pupil {pupil}: {voice} audio packets of the teacher");
    }
    // The teacher sees pupils only once they send.
    assert_eq!(world.heard(1, 2, false, &HashMap::new()), 0);
}

#[test]
fn a_pupil_is_heard_only_while_the_teacher_lets_them_speak() {
    let mut world = class(2);
    // Pupil 2's browser forces its microphone on: nobody hears it.
    world.get_mut(2).level = Some(-15);
    world.run(Duration::from_millis(800));
    assert_eq!(world.heard(3, 2, true, &HashMap::new()), 0, "not let speak: not forwarded");
    assert_eq!(world.heard(1, 2, true, &HashMap::new()), 0, "not even to the teacher");
    // Let speak.
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: grant(false, true) }, world.now);
    world.run(Duration::from_millis(800));
    assert!(world.heard(3, 2, true, &HashMap::new()) > 20, "heard once let speak");
    assert!(world.heard(1, 2, true, &HashMap::new()) > 20);
    // Muted: at once.
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: grant(false, false) }, world.now);
    let mark = world.mark(3);
    world.run(Duration::from_millis(800));
    assert_eq!(world.heard(3, 2, true, &mark), 0, "muted: nothing more");
}

#[test]
fn a_screen_is_forwarded_only_from_someone_allowed_to_share() {
    let mut world = World::new();
    world.join(1, grant(true, true), Offer::default());
    world.join(2, grant(false, false), Offer { screen: true, ..Offer::default() });
    world.get_mut(2).screen_on = true;
    world.run(Duration::from_millis(1_500));
    assert_eq!(world.heard(1, 2, false, &HashMap::new()), 0, "a pupil's screen the room does not allow");
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: Grant { screen: true, screen_on: true, ..grant(false, false) } }, world.now);
    world.run(Duration::from_millis(1_500));
    let slot = world.slot_of(1, 2, MediaSource::Screen).expect("the screen takes a slot first");
    assert!(world.get(1).got.get(&slot).is_some_and(|p| p.iter().any(|p| p.layer == SCREEN_LAYER)), "the screen's frames");
}

#[test]
fn a_microphone_labelled_as_screen_sound_is_heard_only_as_a_voice_while_sharing() {
    // The probe's finding: in a class whose pupils may share their screen,
    // a pupil relabelled their microphone as screen sound and was heard
    // without leave to speak.
    let mut world = World::new();
    world.join(1, grant(true, true), Offer::default());
    let may_share = Grant { screen: true, ..grant(false, false) };
    world.join(2, may_share, Offer { screen: true, microphone_as: MediaSource::ScreenAudio, ..Offer::default() });
    world.join(3, grant(false, false), Offer::default());
    world.get_mut(2).level = Some(-15);
    world.run(Duration::from_millis(1_000));
    assert_eq!(world.heard(1, 2, true, &HashMap::new()), 0, "not sharing, not let speak: not heard");
    // Sharing a screen does not make them heard either: its sound is a voice.
    world.get_mut(2).screen_on = true;
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: Grant { screen_on: true, ..may_share } }, world.now);
    world.run(Duration::from_millis(1_000));
    assert!(world.heard(1, 2, false, &HashMap::new()) > 0, "the screen itself is shown");
    assert_eq!(world.heard(1, 2, true, &HashMap::new()), 0, "sharing, not let speak: not heard");
    assert_eq!(world.heard(3, 2, true, &HashMap::new()), 0);
    // Let speak while sharing: the screen's sound is heard.
    let speaking = Grant { screen_on: true, audio: true, ..may_share };
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: speaking }, world.now);
    world.run(Duration::from_millis(1_000));
    assert!(world.heard(1, 2, true, &HashMap::new()) > 20, "let speak, sharing: heard");
    // The share stops: its sound stops too, whatever still comes in.
    world.get_mut(2).screen_on = false;
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: Grant { screen_on: false, ..speaking } }, world.now);
    world.run(Duration::from_millis(300));
    let mark = world.mark(1);
    world.run(Duration::from_millis(1_000));
    assert_eq!(world.heard(1, 2, true, &mark), 0, "no screen, no screen sound");
}

#[test]
fn a_line_whose_kind_does_not_match_its_label_is_never_forwarded() {
    // Sound labelled as a camera went into a video slot.
    let mut world = World::new();
    world.join(1, grant(true, true), Offer::default());
    world.join(2, grant(false, true), Offer { microphone_as: MediaSource::Camera, ..Offer::default() });
    world.get_mut(2).level = Some(-15);
    world.get_mut(2).camera_on = true;
    world.run(Duration::from_millis(1_500));
    assert_eq!(world.heard(1, 2, true, &HashMap::new()), 0, "the sound is not forwarded as sound");
    let slot = world.slot_of(1, 2, MediaSource::Camera).expect("the real camera is shown");
    let got = world.get(1).got.get(&slot).cloned().unwrap_or_default();
    assert!(!got.is_empty() && got.iter().all(|p| p.layer != AUDIO_LAYER), "only pictures in the picture's slot: {got:?}");
}

#[test]
fn a_guest_in_the_lobby_gets_no_connection_and_no_answer() {
    let mut world = World::new();
    world.join(1, grant(true, true), Offer::default());
    // Guest 9 waits: no grant. Its offer is refused, nothing is answered.
    let index = world.browser(ParticipantId(9));
    let mut change = world.browsers[index].rtc.sdp_api();
    change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    let (sdp, _) = change.apply().unwrap();
    world.sfu.command(Command::Offer { who: ParticipantId(9), sdp: sdp.to_sdp_string(), sources: BTreeMap::new() }, world.now);
    world.collect();
    let told = world.told(9);
    assert!(matches!(told[..], [ServerMessage::Error { code: ErrorCode::NotAdmitted, .. }]), "{told:?}");
    assert!(!world.sfu.is_connected(ParticipantId(9)));
    assert_eq!(world.sfu.connections(), 1);
    // A connectivity check with made-up credentials gets no reply.
    let before = world.wire.len();
    let check = str0m::ice::StunMessage::binding_request("made:up", str0m::ice::TransId::new(), true, 1, 1, true);
    let mut bytes = vec![0; 200];
    let len = check.to_bytes(Some(b"guessed"), &mut bytes, |_, _| [0; 20]).unwrap();
    world.sfu.receive(world.now, "10.0.1.9:5000".parse().unwrap(), &bytes[..len]);
    world.collect();
    assert_eq!(world.wire.len(), before, "nothing goes back to an unknown sender");
}

#[test]
fn a_removed_participant_loses_their_connection_and_their_slots() {
    let mut world = class(2);
    world.get_mut(2).camera_on = true;
    world.run(Duration::from_millis(1_000));
    assert!(world.slot_of(1, 2, MediaSource::Camera).is_some(), "the teacher sees pupil 2");
    world.sfu.command(Command::Revoke { who: ParticipantId(2) }, world.now);
    world.collect();
    assert!(!world.sfu.is_connected(ParticipantId(2)));
    assert_eq!(world.sfu.connections(), 2);
    assert_eq!(world.slot_of(1, 2, MediaSource::Camera), None, "the teacher's slot is given up");
    // What was already on the wire arrives; nothing after.
    world.run(LATENCY * 5);
    let mark = world.mark(1);
    world.run(Duration::from_millis(1_000));
    assert_eq!(world.heard(1, 2, false, &mark), 0, "nothing of theirs is forwarded");
}

#[test]
fn each_receiver_gets_the_layer_its_tile_needs_switching_on_keyframes_only() {
    let mut world = class(1);
    let pupil = 2;
    let slot = world.slot_of(pupil, 1, MediaSource::Camera).unwrap();
    // A small tile: the quarter layer.
    world.view(2, 1, 180);
    world.run(Duration::from_millis(1_000));
    let mark = world.mark(pupil);
    world.run(Duration::from_millis(500));
    let got = &world.get(pupil).got[&slot][mark[&slot]..];
    assert!(!got.is_empty() && got.iter().all(|p| p.layer == 0), "only q: {:?}", got.iter().map(|p| p.layer).collect::<Vec<_>>());
    // Full screen: the full layer, from a keyframe on (the sender's next
    // own, every 3 s, as it ignores requests here), numbering unbroken.
    world.get_mut(1).answers_requests = false;
    let mark = world.mark(pupil);
    world.view(2, 1, 720);
    world.run(Duration::from_millis(3_500));
    let got = &world.get(pupil).got[&slot][mark[&slot]..];
    let first_f = got.iter().position(|p| p.layer == 2).expect("the full layer arrives");
    assert!(got[first_f].keyframe, "the switch happens on a keyframe");
    assert!(got[first_f..].iter().all(|p| p.layer == 2), "and stays");
    let seqs: Vec<u64> = world.get(pupil).got[&slot].iter().map(|p| p.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "sequence numbers run on without a gap: {seqs:?}");
    // Hidden: nothing.
    world.view(2, 1, 0);
    world.run(Duration::from_millis(100));
    let mark = world.mark(pupil);
    world.run(Duration::from_millis(500));
    assert_eq!(world.heard(pupil, 1, false, &mark), 0, "a hidden tile gets no video");
}

#[test]
fn a_layer_the_sender_drops_on_its_own_is_not_waited_for() {
    let mut world = class(1);
    let slot = world.slot_of(2, 1, MediaSource::Camera).unwrap();
    world.view(2, 1, 720);
    world.run(Duration::from_millis(1_000));
    assert_eq!(world.get(2).got[&slot].last().map(|g| g.layer), Some(2), "the full layer");
    // The teacher's browser, short of CPU, stops its top layer.
    world.get_mut(1).layers_sent = 2;
    world.run(STALE + REASSIGN_EVERY * 2);
    let mark = world.mark(2);
    world.run(Duration::from_millis(500));
    let got = &world.get(2).got[&slot][mark[&slot]..];
    assert!(
        !got.is_empty() && got.iter().all(|g| g.layer == 1),
        "the next one down, without a gap: {:?}",
        got.iter().map(|g| g.layer).collect::<Vec<_>>()
    );
}

#[test]
fn a_new_picture_shows_at_once_from_a_lower_layer_while_the_one_wanted_is_not_sent() {
    let mut world = class(1);
    let slot = world.slot_of(2, 1, MediaSource::Camera).unwrap();
    // The teacher's browser, short of CPU, sends its lowest layer alone,
    // and the small tile watching it lets the others be switched off.
    world.get_mut(1).layers_sent = 1;
    world.view(2, 1, 180);
    world.run(LAYER_IDLE + Duration::from_millis(500));
    // Hidden, then shown full screen: the full layer, switched off, is
    // asked for again; the picture does not wait for it.
    world.view(2, 1, 0);
    world.run(Duration::from_millis(100));
    let mark = world.mark(2);
    world.view(2, 1, 720);
    world.run(Duration::from_millis(400));
    let got = &world.get(2).got[&slot][mark[&slot]..];
    assert!(got.first().is_some_and(|g| g.keyframe && g.layer == 0), "the quarter layer from its keyframe: {:?}", got.first());
    assert!(got.len() >= 5 && got.iter().all(|g| g.layer == 0), "and on: {:?}", got.iter().map(|g| g.layer).collect::<Vec<_>>());
    // The browser recovers: the full layer replaces it at its keyframe.
    world.get_mut(1).layers_sent = 3;
    let mark = world.mark(2);
    world.run(Duration::from_millis(1_500));
    let got = &world.get(2).got[&slot][mark[&slot]..];
    let first_f = got.iter().position(|g| g.layer == 2).expect("the full layer arrives");
    assert!(got[first_f].keyframe && got[first_f..].iter().all(|g| g.layer == 2), "switched on a keyframe, and stays");
    let seqs: Vec<u64> = world.get(2).got[&slot].iter().map(|g| g.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "numbering unbroken: {seqs:?}");
}

#[test]
fn a_voice_sent_with_redundancy_reaches_receivers_without_it_as_plain_sound() {
    let mut world = World::new();
    world.join_as(1, grant(true, true), Offer::default(), Peer::with_red);
    world.join(2, grant(false, false), Offer::default());
    world.join_as(3, grant(false, false), Offer::default(), Peer::with_red);
    world.get_mut(1).level = Some(-20);
    world.run(Duration::from_secs(2));
    let mark = HashMap::new();
    let opus_pt = |world: &World, who: u64| {
        let params = world.get(who).rtc.codec_config().params().to_vec();
        let opus = params.iter().find(|p| p.spec().codec == str0m::format::Codec::Opus).expect("Opus");
        (*opus.pt(), opus.red().map(|pt| *pt))
    };
    // Pupil 2 offered no redundancy: the teacher's own sound, unwrapped.
    let (plain, none) = opus_pt(&world, 2);
    assert_eq!(none, None, "pupil 2 offers no RED");
    let heard = world.got_from(2, 1, true, &mark);
    assert!(heard.len() >= 50, "pupil 2 hears the teacher: {} packets", heard.len());
    assert!(heard.iter().all(|g| g.pt == plain && g.len == 5), "plain Opus, the primary alone: {:?}", &heard[..3]);
    // Pupil 3 agreed to it: the redundancy goes on, under its RED type.
    let (_, red) = opus_pt(&world, 3);
    let red = red.expect("pupil 3 offers RED");
    let heard = world.got_from(3, 1, true, &mark);
    assert!(heard.len() >= 50, "pupil 3 hears the teacher: {} packets", heard.len());
    assert!(heard.iter().all(|g| g.pt == red && g.len == 15), "RED, with the redundant block: {:?}", &heard[..3]);
}

#[test]
fn layers_nobody_watches_are_switched_off_at_the_sender() {
    let mut world = class(1);
    world.view(2, 1, 180);
    world.run(LAYER_IDLE + Duration::from_millis(500));
    let told = world.told(1).iter().rev().find_map(|m| match m {
        ServerMessage::SfuLayers { active, .. } => Some(active.clone()),
        _ => None,
    });
    assert_eq!(told, Some(vec!["q".to_string()]), "only the quarter layer is watched");
    world.view(2, 1, 720);
    world.run(Duration::from_millis(100));
    let told = world.told(1).iter().rev().find_map(|m| match m {
        ServerMessage::SfuLayers { active, .. } => Some(active.clone()),
        _ => None,
    });
    assert_eq!(told, Some(vec!["q".to_string(), "f".to_string()]), "switched back on at once");
}

#[test]
fn keyframe_requests_to_a_sender_are_spaced() {
    let mut world = class(4);
    let before = world.get(1).keyframe_requests.len();
    // Every pupil asks for the full layer at once.
    for pupil in 2..6 {
        world.view(pupil, 1, 720);
    }
    world.run(Duration::from_millis(400));
    let asked: Vec<_> = world.get(1).keyframe_requests[before..].iter().filter(|(_, rid)| rid.as_deref() == Some("f")).collect();
    assert_eq!(asked.len(), 1, "four receivers, one request: {asked:?}");
}

#[test]
fn the_loudest_voices_are_told_as_speakers() {
    let mut world = class(2);
    world.sfu.command(Command::Grant { who: ParticipantId(2), grant: grant(false, true) }, world.now);
    world.get_mut(2).level = Some(-10);
    world.run(Duration::from_millis(1_500));
    let speakers = world.told(3).iter().rev().find_map(|m| match m {
        ServerMessage::Speakers { ids } => Some(ids.clone()),
        _ => None,
    });
    assert_eq!(speakers, Some(vec![ParticipantId(2), ParticipantId(1)]), "-10 dBov before -20 dBov");
}

#[test]
fn a_panic_in_one_connection_leaves_the_others_and_asks_for_a_new_one() {
    let mut world = class(2);
    world.sfu.panic_next = Some(ParticipantId(2));
    world.run(Duration::from_millis(200));
    assert!(!world.sfu.is_connected(ParticipantId(2)), "the broken connection is closed");
    assert!(world.told(2).iter().any(|m| matches!(m, ServerMessage::SfuRestart)), "and its browser told to make a new one");
    let mark = world.mark(3);
    world.run(Duration::from_millis(600));
    assert!(world.heard(3, 1, false, &mark) > 10, "the others go on");
    // A new offer under the same grant connects again.
    let old = world.browsers.iter().position(|b| b.who == ParticipantId(2)).unwrap();
    world.browsers.remove(old);
    let index = world.browser(ParticipantId(2));
    world.offer(index, Offer::default());
    world.run(Duration::from_millis(1_000));
    assert!(world.sfu.is_connected(ParticipantId(2)));
    assert!(world.get(2).rtc.is_connected());
}

#[test]
fn only_video_is_read_as_vp8_so_sound_is_never_patched() {
    // An Opus payload whose first bytes look like a VP8 descriptor with a
    // picture id (a CELT-only TOC byte has its top bit set).
    let looks_like_vp8 = [0x90, 0x80, 0x81, 0x02, 0x01, 0x00, 0x00, 0x42];
    assert!(vp8_of(MediaSource::Camera, &looks_like_vp8).is_some_and(|d| d.picture_id() == Some(0x102)));
    assert!(vp8_of(MediaSource::Microphone, &looks_like_vp8).is_none(), "a voice is forwarded as it came");
    assert!(vp8_of(MediaSource::ScreenAudio, &looks_like_vp8).is_none());
}

/// A plain STUN binding request, as a STUN client (the browser's gathering
/// for the pre-join check) sends it: a header and, here, a SOFTWARE
/// attribute ("test", padded to four bytes).
fn plain_binding_request(id: u8) -> Vec<u8> {
    let mut request = vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42];
    request.extend([id; 12]);
    request.extend([0x80, 0x22, 0x00, 0x04, b't', b'e', b's', b't']);
    request
}

/// The address in a binding answer's XOR-MAPPED-ADDRESS (RFC 8489 §14.2),
/// if it is a well-formed IPv4 success answer to transaction `id`.
fn mapped_address(answer: &[u8], id: u8) -> Option<SocketAddr> {
    let header_ok = answer.get(..4)? == [0x01, 0x01, 0x00, 0x0c] && answer.get(4..8)? == [0x21, 0x12, 0xa4, 0x42];
    let attribute = answer.get(20..32)?;
    if !header_ok || answer[8..20] != [id; 12] || attribute[..6] != [0x00, 0x20, 0x00, 0x08, 0x00, 0x01] {
        return None;
    }
    let port = u16::from_be_bytes([attribute[6], attribute[7]]) ^ 0x2112;
    let ip = std::net::Ipv4Addr::from(u32::from_be_bytes(attribute[8..12].try_into().ok()?) ^ 0x2112_a442);
    Some(SocketAddr::from((ip, port)))
}

#[test]
fn the_media_port_answers_plain_stun_requests_as_a_stun_server_within_a_budget() {
    let mut world = World::new();
    let browser: SocketAddr = "192.0.2.7:61000".parse().unwrap();
    world.sfu.receive(world.now, browser, &plain_binding_request(1));
    let out = world.sfu.take_output();
    let [Output::Transmit { destination, data }] = &out[..] else { panic!("one answer: {out:?}") };
    assert_eq!(*destination, browser);
    assert_eq!(mapped_address(data, 1), Some(browser), "the address the request came from: {data:?}");

    // Not a plain binding request: a call's check (with a username) from an
    // unknown address, a truncated request, anything else on the port.
    let check = str0m::ice::StunMessage::binding_request("nobody:x", str0m::ice::TransId::new(), true, 1, 1, false);
    let mut bytes = vec![0; 200];
    let len = check.to_bytes(Some(b"password"), &mut bytes, |_, _| [0; 20]).unwrap();
    world.sfu.receive(world.now, browser, &bytes[..len]);
    world.sfu.receive(world.now, browser, &plain_binding_request(1)[..24]);
    world.sfu.receive(world.now, browser, b"\x00\x01 not stun at all, twenty bytes or more");
    world.sfu.receive(world.now, browser, &[0x80; 40]);
    assert!(world.sfu.take_output().is_empty());

    // A flood from one source: its few answers this second, the rest
    // dropped, and a new second's after.
    for n in 0..200u8 {
        world.sfu.receive(world.now, browser, &plain_binding_request(n));
    }
    assert_eq!(world.sfu.take_output().len(), PROBE_ANSWERS_PER_SOURCE as usize - 1);
    world.now += Duration::from_secs(1);
    world.sfu.receive(world.now, browser, &plain_binding_request(2));
    assert_eq!(world.sfu.take_output().len(), 1);
}

#[test]
fn a_stun_flood_from_one_source_leaves_everyone_elses_checks_answered_within_a_cap_in_all() {
    // The probe's finding: the 50 answers a second were everyone's, and
    // under a flood 4 of 30 real pre-join checks went unanswered.
    let mut world = World::new();
    let flooder: SocketAddr = "192.0.2.66:4000".parse().unwrap();
    let answered_to = |world: &mut World, from: SocketAddr, requests: u8| {
        for n in 0..requests {
            world.sfu.receive(world.now, from, &plain_binding_request(n));
        }
        world.sfu.take_output().iter().filter(|o| matches!(o, Output::Transmit { destination, .. } if *destination == from)).count()
    };
    assert_eq!(answered_to(&mut world, flooder, 250), PROBE_ANSWERS_PER_SOURCE as usize);
    for n in 0..30u8 {
        let browser: SocketAddr = format!("198.51.100.{n}:5000").parse().unwrap();
        assert_eq!(answered_to(&mut world, browser, 2), 2, "check {n} answered during the flood");
    }
    // One IPv6 /64 is one source.
    let (a, b): (SocketAddr, SocketAddr) = ("[2001:db8:1:2::1]:5000".parse().unwrap(), "[2001:db8:1:2::9]:5000".parse().unwrap());
    let each = PROBE_ANSWERS_PER_SOURCE as u8;
    assert_eq!(answered_to(&mut world, a, each) + answered_to(&mut world, b, each), PROBE_ANSWERS_PER_SOURCE as usize);
    // Spoofed from many sources: the cap in all still holds.
    let mut spread = 0;
    for n in 0..=255u8 {
        for m in 0..4u8 {
            spread += answered_to(&mut world, format!("10.{m}.{n}.1:9").parse().unwrap(), 3);
        }
    }
    let before = PROBE_ANSWERS_PER_SOURCE as usize + 60 + PROBE_ANSWERS_PER_SOURCE as usize;
    assert_eq!(spread, PROBE_ANSWERS_PER_SECOND as usize - before, "no more than the cap this second");
}
