//! Breakout groups at the media server: each receiver gets the pictures
//! and voices of its own group alone; a host speaking to all is heard in
//! every group; a visit is a change of group, on the same connection.

use super::*;

fn in_group(group: Option<u8>, host: bool) -> Grant {
    Grant { group, camera_on: true, ..grant(host, true) }
}

#[test]
fn each_group_sees_and_hears_its_own_members_and_the_host_reaches_all_when_asked() {
    let mut world = World::new();
    world.join(1, in_group(None, true), Offer::default());
    for (who, group) in [(2, 0), (3, 0), (4, 1), (5, 1)] {
        world.join(who, in_group(Some(group), false), Offer::default());
    }
    for who in 1..=5 {
        let browser = world.get_mut(who);
        browser.camera_on = true;
        browser.level = Some(-20);
    }
    world.run(Duration::from_millis(1_500));
    let none = HashMap::new();
    assert!(world.heard(2, 3, false, &none) > 20, "2 sees 3, in its group");
    assert!(world.heard(2, 3, true, &none) > 20, "and hears them");
    for (viewer, other) in [(2, 4), (2, 5), (4, 2), (5, 3), (2, 1), (1, 2), (1, 4)] {
        assert_eq!(world.heard(viewer, other, false, &none), 0, "{viewer} sees nothing of {other}");
        assert_eq!(world.heard(viewer, other, true, &none), 0, "{viewer} hears nothing of {other}");
    }

    // Who speaks is told within the group alone.
    let speakers = world.told(2).iter().rev().find_map(|m| match m {
        ServerMessage::Speakers { ids } => {
            let mut ids: Vec<u64> = ids.iter().map(|id| id.0).collect();
            ids.sort_unstable();
            Some(ids)
        }
        _ => None,
    });
    assert_eq!(speakers, Some(vec![2, 3]), "group 0 hears of its own speakers alone");

    // The host speaks to every group: heard everywhere, not seen.
    world.sfu.command(Command::Grant { who: ParticipantId(1), grant: Grant { everywhere: true, ..in_group(None, true) } }, world.now);
    let marks: Vec<_> = (2..=5).map(|w| world.mark(w)).collect();
    world.run(Duration::from_millis(1_000));
    for (viewer, mark) in (2..=5).zip(&marks) {
        assert!(world.heard(viewer, 1, true, mark) > 20, "{viewer} hears the host");
        assert_eq!(world.heard(viewer, 1, false, mark), 0, "{viewer} does not see them");
    }

    // The host visits group 1 (their voice back to where they are).
    world.sfu.command(Command::Grant { who: ParticipantId(1), grant: in_group(Some(1), true) }, world.now);
    let (one, four, two) = (world.mark(1), world.mark(4), world.mark(2));
    world.run(Duration::from_millis(1_500));
    assert!(world.heard(4, 1, false, &four) > 20, "group 1 sees the visiting host");
    assert!(world.heard(4, 1, true, &four) > 20, "and hears them");
    assert!(world.heard(1, 5, false, &one) > 20, "the host sees group 1");
    assert!(world.heard(1, 4, true, &one) > 20, "and hears it");
    assert_eq!(world.heard(2, 1, true, &two), 0, "group 0 no longer hears the host");
    assert_eq!(world.sfu.connections(), 5, "nobody made a new connection");
}
