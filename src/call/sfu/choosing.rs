//! Choosing what each receiver gets: which stream each of its slots
//! carries and at which layer (within its link), who speaks, and which
//! layers each sender need keep sending.

use super::*;

/// A stream on offer to the others in a call, for choosing what to show.
struct Offered {
    feed: Feed,
    /// The sender's breakout group (`None`: the main room).
    group: Option<u8>,
    order: u64,
    host: bool,
    layers: Vec<Layer>,
    picks: Vec<Pick>,
    /// The layers that send now, lowest first.
    flowing: Vec<Option<Rid>>,
}

/// A voice on offer: its feed, how loud it is, when it last spoke, and
/// where it is heard: its sender's breakout group (or the main room), or
/// every group (`Err`: a host speaking to all).
type Voice = (Feed, f32, Option<Instant>, Result<Option<u8>, ()>);

impl Sfu {
    /// Chooses what every slot in `room` carries and at which layer, and
    /// tells each receiver whose slots changed.
    pub(super) fn assign(&mut self, room: RoomId, now: Instant) {
        let members: Vec<ParticipantId> = self.clients.iter().filter(|(_, c)| c.grant.room == room).map(|(who, _)| *who).collect();
        // What each sender offers now.
        let mut videos: Vec<Offered> = Vec::new();
        let mut voices: Vec<Voice> = Vec::new();
        // What each voice takes of a link (with RED, twice its sound).
        let mut voice_cost: HashMap<Feed, u64> = HashMap::new();
        for who in &members {
            let client = &self.clients[who];
            for track in &client.sends {
                let feed = Feed { who: *who, source: track.source };
                if !track.source.is_video() {
                    let measured = track.layers.get(&None).map_or(0, |l| l.bitrate);
                    voice_cost.insert(feed, if measured > 0 { measured + VOICE_HEADERS_BPS } else { VOICE_BPS });
                }
                let shown = match track.source {
                    MediaSource::Camera => client.grant.camera_on || track.fresh(now),
                    MediaSource::Screen => client.forwards(MediaSource::Screen) && (client.grant.screen_on || track.fresh(now)),
                    MediaSource::Microphone => {
                        if client.forwards(MediaSource::Microphone) {
                            let heard_in = if client.grant.everywhere { Err(()) } else { Ok(client.grant.group) };
                            voices.push((feed, track.voice.speaking().unwrap_or(0.0), track.voice.last_spoke, heard_in));
                        }
                        false
                    }
                    MediaSource::ScreenAudio => {
                        if client.forwards(MediaSource::ScreenAudio) && track.fresh(now) {
                            voices.push((feed, f32::MAX, None, Ok(client.grant.group)));
                        }
                        false
                    }
                };
                if shown {
                    let (layers, picks) = track.layer_list(now);
                    let flowing = track.flowing(now);
                    videos.push(Offered { feed, group: client.grant.group, order: client.order, host: client.grant.host, layers, picks, flowing });
                }
            }
        }
        let speaking: Vec<ParticipantId> = self.speakers.get(&room).map(|(s, _)| s.clone()).unwrap_or_default();
        // Links asked to carry a new amount: their timers changed.
        let mut probe = Vec::new();
        for who in members {
            let mut changes = Vec::new();
            let Some(client) = self.clients.get_mut(&who) else { continue };
            if client.rtc.is_none() {
                continue;
            }
            // Video: what the page asked for, else screens, hosts, speakers,
            // then by arrival.
            // Only those in the same breakout group (or the main room).
            let group = client.grant.group;
            let others: Vec<&Offered> = videos.iter().filter(|v| v.feed.who != who && v.group == group).collect();
            let mut ranked: Vec<(Feed, u32)> = Vec::new();
            match &client.want {
                Some(want) => {
                    for w in want {
                        let feed = Feed { who: w.id, source: w.source };
                        if others.iter().any(|v| v.feed == feed) && !ranked.iter().any(|(f, _)| *f == feed) {
                            ranked.push((feed, w.height));
                        }
                    }
                }
                None => {
                    let mut auto = others.clone();
                    auto.sort_by_key(|v| {
                        let speaker = speaking.iter().position(|s| *s == v.feed.who).unwrap_or(usize::MAX);
                        (v.feed.source != MediaSource::Screen, !v.host, speaker, v.order)
                    });
                    ranked.extend(auto.into_iter().map(|v| (v.feed, DEFAULT_VIEW_HEIGHT)));
                }
            }
            ranked.truncate(client.video.len());
            // Keep what already shows; fill freed slots with the newcomers.
            for slot in &mut client.video {
                if slot.feed.is_some_and(|f| !ranked.iter().any(|(r, _)| *r == f)) {
                    slot.feed = None;
                    slot.current = None;
                    slot.target = None;
                    changes.push(slot.mid);
                }
            }
            for (feed, height) in &ranked {
                if let Some(slot) = client.video.iter_mut().find(|s| s.feed == Some(*feed)) {
                    slot.height = *height;
                    continue;
                }
                if let Some(slot) = client.video.iter_mut().find(|s| s.feed.is_none()) {
                    slot.feed = Some(*feed);
                    slot.height = *height;
                    slot.current = None;
                    slot.pts.clear();
                    changes.push(slot.mid);
                }
            }
            // Layers: each slot's tile height, within the link's estimate.
            let offered = |slot: &Slot| slot.feed.and_then(|f| videos.iter().find(|v| v.feed == f));
            // What each slot's feed offers, looked up once.
            let offers: Vec<Option<&Offered>> = client.video.iter().map(offered).collect();
            let layers_of = |i: usize| offers[i].map_or(&[][..], |v| v.layers.as_slice());
            let mut chosen: Vec<Option<usize>> =
                client.video.iter().enumerate().map(|(i, s)| s.feed.and_then(|_| layers::for_height(layers_of(i), s.height))).collect();
            // Before any layer's rate is measured, there is nothing to fit.
            if offers.iter().flatten().flat_map(|v| &v.layers).any(|l| l.bitrate > 0) {
                // Most important first: the slots in the order their feeds rank.
                let rank = |slot: &Slot| slot.feed.and_then(|f| ranked.iter().position(|(r, _)| *r == f)).unwrap_or(usize::MAX);
                let mut order: Vec<usize> = (0..client.video.len()).collect();
                order.sort_by_key(|&i| rank(&client.video[i]));
                let wanted: Vec<Option<usize>> = order.iter().map(|&i| chosen[i]).collect();
                let mut ordered = wanted.clone();
                let refs: Vec<&[Layer]> = order.iter().map(|&i| layers_of(i)).collect();
                // Room for the voices being heard first.
                let voices: u64 = client.audio.iter().filter_map(|s| s.feed).map(|f| voice_cost.get(&f).copied().unwrap_or(VOICE_BPS)).sum();
                if let Some(estimate) = client.estimate {
                    layers::fit(&mut ordered, &refs, (estimate * 9 / 10).saturating_sub(voices));
                    for (&i, choice) in order.iter().zip(&ordered) {
                        chosen[i] = *choice;
                    }
                }
                let (minimum, desired) = layers::demand(&wanted, &ordered, &refs, voices);
                if client.ask_link(minimum, desired) {
                    probe.push(who);
                }
            }
            let mut asks = Vec::new();
            for ((slot, choice), offer) in client.video.iter_mut().zip(chosen).zip(&offers) {
                let Some(feed) = slot.feed else { continue };
                let (picks, flowing) = offer.map_or((&[][..], &[][..]), |v| (v.picks.as_slice(), v.flowing.as_slice()));
                let pick = choice.and_then(|i| picks.get(i).cloned());
                // A lower frame rate of the same layer needs no keyframe.
                slot.tid_target = pick.and_then(|(_, tid)| tid);
                let target = pick.map(|(rid, _)| rid);
                if slot.target != target {
                    slot.target = target;
                    slot.asked_at = None;
                    slot.start = None;
                    match target {
                        Some(rid) if slot.current != Some(rid) => {
                            asks.push((feed, rid));
                            // Nothing shows yet: the best layer below that
                            // sends now shows first.
                            if slot.current.is_none() && !flowing.contains(&rid) {
                                let below = picks.iter().map(|(r, _)| *r).take_while(|r| *r != rid);
                                slot.start = below.filter(|r| flowing.contains(r)).last();
                                asks.extend(slot.start.map(|r| (feed, r)));
                            }
                        }
                        Some(_) => {}
                        None => slot.current = None,
                    }
                }
            }
            // Audio: the loudest voices (a shared screen's sound first).
            let mut heard: Vec<_> = voices.iter().filter(|v| v.0.who != who && !matches!(v.3, Ok(g) if g != group)).collect();
            // A host speaking to every group first while they speak: over
            // the group's own talk.
            let to_all = |v: &&Voice| v.3.is_err() && v.1 > 0.0;
            heard.sort_by(|a, b| to_all(b).cmp(&to_all(a)).then(b.1.total_cmp(&a.1)).then(b.2.cmp(&a.2)).then(a.0.who.cmp(&b.0.who)));
            let loudest: Vec<Feed> = heard.into_iter().take(client.audio.len()).map(|v| v.0).collect();
            for slot in &mut client.audio {
                if slot.feed.is_some_and(|f| !loudest.contains(&f)) {
                    slot.feed = None;
                    changes.push(slot.mid);
                }
            }
            for feed in loudest {
                if client.audio.iter().any(|s| s.feed == Some(feed)) {
                    continue;
                }
                if let Some(slot) = client.audio.iter_mut().find(|s| s.feed.is_none()) {
                    slot.feed = Some(feed);
                    slot.pts.clear();
                    // A new voice in the slot continues its numbering.
                    slot.rebase.restart();
                    changes.push(slot.mid);
                }
            }
            if !changes.is_empty() {
                let message = ServerMessage::SfuSlots {
                    video: client.video.iter().map(slot_feed).collect(),
                    audio: client.audio.iter().map(slot_feed).collect(),
                };
                self.out.push(Output::Tell { to: who, message });
            }
            for (feed, rid) in asks {
                self.ask_keyframe(feed, rid, now);
            }
        }
        for who in probe {
            self.touch(who);
        }
        self.tell_layers(room, now);
    }

    /// Tells `room` who speaks now, when it changed (at most every 400 ms).
    pub(super) fn tell_speakers(&mut self, room: RoomId, now: Instant) {
        let mut voices = Vec::new();
        for (who, client) in self.clients.iter_mut().filter(|(_, c)| c.grant.room == room) {
            for track in client.sends.iter_mut().filter(|t| t.source == MediaSource::Microphone) {
                track.voice.close_windows(now);
                if let Some(level) = track.voice.speaking().filter(|_| client.grant.audio) {
                    voices.push((*who, level));
                }
            }
        }
        let ranked = speakers::rank(voices);
        let (told, at) = self.speakers.entry(room).or_default();
        if *told == ranked || at.is_some_and(|at| now.saturating_duration_since(at) < SPEAKERS_EVERY) {
            return;
        }
        *told = ranked.clone();
        *at = Some(now);
        // Each is told of those they hear: their breakout group's, and a
        // host speaking to every group.
        let heard_by = |speaker: &Client, listener: &Client| speaker.grant.group == listener.grant.group || speaker.grant.everywhere;
        for (to, listener) in self.clients.iter().filter(|(_, c)| c.grant.room == room && c.rtc.is_some()) {
            let ids = ranked.iter().copied().filter(|id| self.clients.get(id).is_some_and(|speaker| heard_by(speaker, listener))).collect();
            self.out.push(Output::Tell { to: *to, message: ServerMessage::Speakers { ids } });
        }
        // The loudest voices take the audio slots.
        self.assign(room, now);
    }

    /// Tells each sender in `room` which of its camera's layers someone
    /// watches. The lowest stays on while the camera is (so a new viewer
    /// sees a picture at once); the others go off after being unwatched a
    /// while, and come back on as soon as someone needs them.
    pub(super) fn tell_layers(&mut self, room: RoomId, now: Instant) {
        let mut wanted: HashMap<Feed, HashSet<Rid>> = HashMap::new();
        for client in self.clients.values().filter(|c| c.grant.room == room) {
            for slot in &client.video {
                if let (Some(feed), Some(Some(rid))) = (slot.feed, slot.target) {
                    wanted.entry(feed).or_default().insert(rid);
                }
                if let (Some(feed), Some(Some(rid))) = (slot.feed, slot.current) {
                    wanted.entry(feed).or_default().insert(rid);
                }
            }
        }
        for (who, client) in self.clients.iter_mut().filter(|(_, c)| c.grant.room == room) {
            for track in client.sends.iter_mut().filter(|t| t.rids.len() > 1) {
                let feed = Feed { who: *who, source: track.source };
                let want = wanted.get(&feed);
                let mut active = Vec::new();
                for (i, rid) in track.rids.iter().enumerate() {
                    let Some(rid) = rid else { continue };
                    if i == 0 || want.is_some_and(|w| w.contains(rid)) {
                        track.unwanted_since.remove(rid);
                        active.push(*rid);
                    } else {
                        let since = *track.unwanted_since.entry(*rid).or_insert(now);
                        let was_on = track.told.as_ref().is_none_or(|t| t.contains(rid));
                        if was_on && now.saturating_duration_since(since) < LAYER_IDLE {
                            active.push(*rid);
                        }
                    }
                }
                for rid in &active {
                    if track.told.as_ref().is_some_and(|told| !told.contains(rid)) {
                        track.enabled_at.insert(*rid, now);
                    }
                }
                if track.told.as_ref() != Some(&active) {
                    // Nothing to tell before the first change: all layers start on.
                    let first = track.told.is_none() && active.len() == track.rids.len();
                    track.told = Some(active.clone());
                    if !first {
                        let message = ServerMessage::SfuLayers { mid: track.mid.to_string(), active: active.iter().map(|r| r.to_string()).collect() };
                        self.out.push(Output::Tell { to: *who, message });
                    }
                }
            }
        }
    }
}

fn slot_feed(slot: &Slot) -> SlotFeed {
    SlotFeed { mid: slot.mid.to_string(), id: slot.feed.map(|f| f.who), source: slot.feed.map(|f| f.source) }
}
