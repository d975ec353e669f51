//! What the server says, turned into the view's state ([`CallUi`]).

use crate::i18n::{t, t_with, Text};
use std::rc::Rc;

use leptos::logging::warn;
use leptos::prelude::*;
use web_sys::MediaStream;

use super::mesh::apply_send_state;
use super::state::*;
use crate::call::protocol::{ClientMessage, ErrorCode, MediaState, ParticipantId, ServerMessage, StreamId, Topology};
use crate::call::ui::{ChatLine, Phase};
use crate::client::js::short_time;
use crate::client::media::{can_share_screen, local_stream, screen_stream};

impl Call {
    pub(super) async fn on_message(self: &Rc<Self>, message: ServerMessage) {
        match message {
            ServerMessage::Welcome { you, participants, ice_servers, resume_token, rules, topology, pass, .. } => {
                // A call entered anew (a move, a server restart): its latest
                // poll, if any, follows; none of the one before stays shown.
                crate::client::classroom::clear();
                self.ui.grouped.set(false);
                self.attempts.set(0);
                self.moves.set(0);
                // Back as the same participant (a pass, after the call
                // moved): every connection is kept, and those not at the new
                // node yet are awaited there.
                let mut awaited = Vec::new();
                if self.carried_from.take() == Some(you.id) {
                    let others = self.ui.others.get_untracked();
                    awaited = others.iter().map(|p| p.id).filter(|id| !participants.iter().any(|p| p.id == *id)).collect();
                } else {
                    self.drop_kept();
                }
                if pass.is_some() {
                    *self.pass.borrow_mut() = pass;
                }
                self.ui.may_unmute.try_set(rules.may_unmute);
                self.ui.may_share_screen.try_set(rules.may_share_screen && can_share_screen());
                self.relay_only.set(rules.relay_only);
                if rules.join_muted {
                    self.ui.microphone_on.try_set(false);
                    apply_send_state(self.ui);
                }
                *self.resume_token.borrow_mut() = Some(resume_token);
                self.me.set(Some(you.id));
                *self.ice_servers.borrow_mut() = ice_servers;
                self.ui.me.try_set(Some(you));
                self.ui.entered_at_ms.try_set(Some(js_sys::Date::now() as u64));
                self.attended(&participants);
                let mut shown = participants.clone();
                shown.extend(self.ui.others.get_untracked().into_iter().filter(|p| awaited.contains(&p.id)));
                self.ui.others.try_set(shown);
                self.ui.phase.try_set(Phase::InCall);
                self.await_carried(awaited);
                self.announce();
                // Connection figures per person (`stats`).
                self.start_stats();
                // This page's bundle carries one way of connecting (see
                // `Cargo.toml`): a call that started the other way since the
                // page loaded needs the page reloaded.
                if cfg!(feature = "bundle-sfu") != (topology == Topology::Sfu) {
                    self.ui.notice.try_set(Some(t(ErrorCode::WrongTopology.text()).into()));
                } else {
                    #[cfg(feature = "bundle-sfu")]
                    self.connect_media();
                    // The newcomer offers to everyone already there.
                    #[cfg(not(feature = "bundle-sfu"))]
                    for participant in participants {
                        if let Err(e) = self.peer(participant.id, true) {
                            warn!("could not set up a connection: {e:?}");
                        }
                    }
                }
            }
            ServerMessage::Waiting { resume_token, host_here, full } => {
                // Let in while the call is full: said under the waiting line.
                self.ui.notice.try_set(full.then(|| t(Text::WaitingFull).into()));
                self.attempts.set(0);
                self.moves.set(0);
                // Come back with a pass but held in the lobby after all: the
                // connections kept for the call go.
                if self.carried_from.take().is_some() {
                    self.drop_kept();
                }
                self.ui.host_here.try_set(host_here);
                *self.resume_token.borrow_mut() = Some(resume_token);
                self.ui.phase.try_set(Phase::Waiting);
            }
            ServerMessage::HostHere { here } => {
                self.ui.host_here.try_set(here);
            }
            ServerMessage::Lobby { waiting } => {
                self.ui.waiting.try_set(waiting);
            }
            ServerMessage::MutedByHost => {
                self.ui.microphone_on.try_set(false);
                apply_send_state(self.ui);
                self.ui.notice.try_set(Some(t(Text::CallMutedByHost).into()));
            }
            ServerMessage::MayUnmute { allowed } => {
                self.ui.may_unmute.try_set(allowed);
                if allowed {
                    self.ui.notice.try_set(Some(t(Text::CallMaySpeak).into()));
                }
            }
            ServerMessage::LobbyChat { guest, from_host, text, .. } => {
                self.ui.lobby_chat.try_update(|words| words.push((guest, from_host, text.as_str().to_string())));
            }
            ServerMessage::RoomLocked { locked } => {
                self.ui.locked.try_set(locked);
            }
            ServerMessage::LockedOut { name } => {
                self.ui.notice.try_set(Some(t_with(Text::CallLockedOut, &[("name", name.as_str())])));
            }
            ServerMessage::Hands { raised } => {
                // A new hand: the host hears a soft chime and reads who.
                let new = raised.iter().find(|id| !self.ui.hands.with_untracked(|h| h.contains(id))).copied();
                if let (Some(name), true) = (new.and_then(|id| self.name_of(id)), self.ui.host.get_untracked()) {
                    crate::client::media::play_notes(&self.ui.speaker_id.get_untracked(), [523.0, 659.0]);
                    self.ui.notice.try_set(Some(t_with(Text::ClassHandUp, &[("name", &name)])));
                }
                self.ui.hands.try_set(raised);
            }
            ServerMessage::ParticipantJoined { participant } => {
                // Someone whose call moved here with them, connected to this
                // page all along: their connection is kept.
                let known = self.peers.borrow().get(&participant.id).cloned();
                self.awaited.borrow_mut().retain(|id| *id != participant.id);
                self.ui.reconnecting.try_update(|all| all.retain(|p| *p != participant.id));
                if let Some(peer) = known {
                    #[cfg(not(feature = "bundle-sfu"))]
                    peer.recover().await;
                    #[cfg(feature = "bundle-sfu")]
                    let _ = peer;
                } else {
                    self.ui.announcement.try_set(t_with(Text::CallJoined, &[("name", &participant.name.to_string())]));
                    self.attended(std::slice::from_ref(&participant));
                }
                self.ui.others.try_update(|others| {
                    others.retain(|p| p.id != participant.id);
                    others.push(participant);
                });
            }
            ServerMessage::ParticipantLeft { id } => {
                if let Some(name) = self.name_of(id) {
                    self.ui.announcement.try_set(t_with(Text::CallLeft, &[("name", &name.to_string())]));
                }
                self.forget(id);
            }
            ServerMessage::Media { id, state } => {
                // A screen that ended leaves its stream behind: let it go.
                if let Some(old) = self.screen_id(id).filter(|old| state.screen.as_ref() != Some(old)) {
                    if let Some(streams) = self.remote.borrow_mut().get_mut(&id) {
                        streams.retain(|s| s.id() != old.as_str());
                    }
                }
                self.ui.media_of.try_update(|all| all.insert(id, state));
            }
            ServerMessage::Resumed { participants, rules, .. } => {
                self.ui.may_unmute.try_set(rules.may_unmute);
                self.ui.may_share_screen.try_set(rules.may_share_screen && can_share_screen());
                self.announce();
                // TURN credentials may have run out during a long call.
                self.send(&ClientMessage::IceServers);
                self.on_resumed(participants)
            }
            ServerMessage::IceServers { ice_servers } => {
                *self.ice_servers.borrow_mut() = ice_servers;
                let config = self.rtc_configuration();
                for (_, peer) in self.mesh_peers() {
                    let _ = peer.pc.set_configuration_with_configuration(&config);
                }
            }
            // Only browser-to-browser connections need mending.
            #[cfg(not(feature = "bundle-sfu"))]
            ServerMessage::ParticipantResumed { id } => {
                let peer = self.peers.borrow().get(&id).cloned();
                if let Some(peer) = peer {
                    peer.recover().await;
                }
            }
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::ParticipantResumed { .. } => {}
            ServerMessage::Chat { from, text, sent_at_ms } => {
                let mine = self.me.get() == Some(from);
                let who = if mine { Some(self.name.to_string()) } else { self.name_of(from) };
                let line = ChatLine {
                    seq: self.ui.chat.with_untracked(Vec::len),
                    who: who.unwrap_or_else(|| t(Text::LobbySomeoneWhoLeft).into()),
                    mine,
                    at: short_time(sent_at_ms as f64).unwrap_or_default(),
                    text: text.as_str().to_string(),
                };
                self.ui.chat.try_update(|all| all.push(line));
                if !mine && !self.ui.chat_open.get_untracked() {
                    self.ui.unread.try_update(|n| *n += 1);
                }
            }
            // Browser-to-browser signals: never in a call through the media
            // server, so its bundle leaves the mesh out.
            #[cfg(not(feature = "bundle-sfu"))]
            ServerMessage::Signal { from, payload } => self.on_signal(from, payload).await,
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::SfuAnswer { sdp } => self.media_answer(sdp),
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::SfuSlots { video, audio } => {
                if let Some(link) = self.media_link.borrow().clone() {
                    link.assign(self, video, audio);
                }
            }
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::SfuLayers { active, .. } => {
                if let Some(link) = self.media_link.borrow().clone() {
                    link.set_layers(&active);
                }
            }
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::Speakers { ids } => {
                self.ui.speakers.try_set(ids);
            }
            #[cfg(feature = "bundle-sfu")]
            ServerMessage::SfuRestart => self.connect_media(),
            ServerMessage::Moved { node } => self.on_moved(node),
            // Twice the beat and a little: one late tick is no reason to go.
            ServerMessage::Tick { every_ms } => self.silence_limit.set(Some(2.0 * every_ms as f64 + 2000.0)),
            // A call's bundle passes polls on unread (`client::classroom`);
            // only the site's, which never runs a call, has this variant.
            #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
            ServerMessage::Poll { .. } | ServerMessage::Breakouts { .. } | ServerMessage::BoardState { .. } | ServerMessage::BoardChanged { .. } => {}
            ServerMessage::Error { code: ErrorCode::ResumeRefused, .. } => self.rejoin(),
            ServerMessage::Error { code, message } => {
                if code.is_fatal() {
                    self.refusal.set(Some(code));
                } else if code == ErrorCode::UnknownParticipant {
                    // Mostly a signal to someone who just left: nothing to
                    // tell the person, whose view already shows them gone.
                    warn!("the server refused a message: {message}");
                } else {
                    // Said on screen (and to screen readers) in the page's
                    // language: a full call, only the host may…
                    self.ui.notice.try_set(Some(t(code.text()).into()));
                }
            }
        }
    }

    /// Tells the others what this person sends now.
    pub(super) fn announce(&self) {
        if self.me.get().is_none() {
            return; // not in the call yet: the welcome announces it
        }
        let stream = local_stream();
        let has_audio = stream.as_ref().is_some_and(|s| s.get_audio_tracks().length() > 0);
        let has_video = stream.as_ref().is_some_and(|s| s.get_video_tracks().length() > 0);
        let state = MediaState {
            microphone: self.ui.microphone_on.get_untracked() && has_audio,
            camera: self.ui.camera_on.get_untracked() && has_video,
            screen: screen_stream().and_then(|s| StreamId::try_from(s.id()).ok()),
        };
        self.send(&ClientMessage::Media { state });
    }

    /// Notes who was in the call, for the host's summary at the end.
    fn attended(&self, people: &[crate::call::protocol::Participant]) {
        self.ui.attended.try_update(|all| {
            for person in people {
                let name = person.name.to_string();
                if !all.contains(&name) {
                    all.push(name);
                }
            }
        });
    }

    /// The stream id participant `id` announced for their screen.
    pub(super) fn screen_id(&self, id: ParticipantId) -> Option<StreamId> {
        self.ui.media_of.with_untracked(|all| all.get(&id).and_then(|m| m.screen.clone()))
    }

    /// Participant `id`'s shared screen, once it arrived.
    pub(super) fn screen_of(&self, id: ParticipantId) -> Option<MediaStream> {
        #[cfg(feature = "bundle-sfu")]
        if let Some(link) = self.media_link.borrow().clone() {
            return link.screen_of(id);
        }
        let screen = self.screen_id(id)?;
        self.remote.borrow().get(&id)?.iter().find(|s| s.id() == screen.as_str()).cloned()
    }

    pub(super) fn name_of(&self, id: ParticipantId) -> Option<String> {
        self.ui.others.with_untracked(|o| o.iter().find(|p| p.id == id).map(|p| p.name.to_string()))
    }
}
