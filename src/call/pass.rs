//! Cluster mode: a pass saying "this person was let into room R's call as
//! participant P", signed with a key every node shares. When a call moves
//! to another node (its node stopped), the new node has none of the old
//! one's memory; a person who shows their pass comes back into the call as
//! the same participant, without waiting in the lobby again, and pages
//! that still hold a browser-to-browser connection to them keep it.
//!
//! A pass is bound to the person (their account, their guest cookie or
//! their network), so a copied pass is worth nothing to anyone else; a
//! cooldown the new node knows of (removed, turned away) still applies. It
//! names the node life that issued it, and counts only where the call
//! moved to: on the node that issued it (a person whose place there lapsed
//! meanwhile), its lobby holds as for anyone.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::protocol::ParticipantId;
use super::RoomId;

/// Signs and checks passes.
#[derive(Clone)]
pub struct PassIssuer {
    key: Vec<u8>,
    /// This node's life (its lease holder's instance), written into the
    /// passes it issues.
    instance: String,
}

impl std::fmt::Debug for PassIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassIssuer")
    }
}

impl PassIssuer {
    /// Passes signed with `key`, issued by node life `instance`.
    pub fn new(key: impl Into<Vec<u8>>, instance: impl Into<String>) -> Self {
        Self { key: key.into(), instance: instance.into() }
    }

    /// The pass of `person`, let into `room`'s call as `who`:
    /// `{who}.{instance}.{signature}`.
    /// `person` is who they are as the hub knows them (`Person::key`).
    pub fn issue(&self, room: RoomId, who: ParticipantId, person: &str) -> String {
        let signature = self.mac(room, who, &self.instance, person).finalize().into_bytes();
        format!("{who}.{}.{}", self.instance, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature))
    }

    /// Who `pass` lets `person` back into `room`'s call as, if it is theirs
    /// for that room and was issued by another node life (the call moved
    /// here from it).
    pub fn check(&self, pass: &str, room: RoomId, person: &str) -> Option<ParticipantId> {
        let mut parts = pass.splitn(3, '.');
        let (who, instance, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let who = ParticipantId(who.parse().ok()?);
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(room, who, instance, person).verify_slice(&signature).ok()?;
        (instance != self.instance).then_some(who)
    }

    fn mac(&self, room: RoomId, who: ParticipantId, instance: &str, person: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(format!("huddle pass\0room:{}\0participant:{who}\0issuer:{instance}\0{person}", room.0).as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_lets_its_person_back_into_its_room_only_on_another_node_life() {
        let key = b"a key every node shares".to_vec();
        let (issuer, here) = (PassIssuer::new(key.clone(), "a1"), PassIssuer::new(key, "b1"));
        let (ada, guest) = ("account:1", "guest:c00kie");
        let pass = issuer.issue(RoomId(7), ParticipantId(42 << 32 | 3), guest);
        assert_eq!(issuer.check(&pass, RoomId(7), guest), None, "not where it was issued: the lobby holds there");
        let issuer = here;
        assert_eq!(issuer.check(&pass, RoomId(7), guest), Some(ParticipantId(42 << 32 | 3)));
        assert_eq!(issuer.check(&pass, RoomId(8), guest), None, "another room");
        assert_eq!(issuer.check(&pass, RoomId(7), ada), None, "another person");
        assert_eq!(PassIssuer::new(b"another key".to_vec(), "b1").check(&pass, RoomId(7), guest), None, "another cluster");
        let (id, rest) = pass.split_once('.').unwrap();
        let (instance, signature) = rest.split_once('.').unwrap();
        assert_eq!(issuer.check(&format!("{}.{rest}", id.parse::<u64>().unwrap() + 1), RoomId(7), guest), None, "another participant");
        assert_eq!(issuer.check(&format!("{id}.c1.{signature}"), RoomId(7), guest), None, "another issuer");
        for junk in ["", ".", "x.y", "42", "42.", "42.a1.", &format!("{id}.{instance}.{}", &signature[1..])] {
            assert_eq!(issuer.check(junk, RoomId(7), guest), None, "{junk:?}");
        }
    }
}
