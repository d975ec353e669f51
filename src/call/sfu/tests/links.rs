//! The media server and receivers' links: narrow, lossy, narrowed and
//! widened again.

use super::*;

#[test]
fn a_narrowed_link_keeps_the_most_important_picture_and_finds_room_again_when_the_page_wants_more() {
    let mut world = class(2);
    world.get_mut(3).camera_on = true;
    // Pupil 2's page shows the teacher alone (a gallery page of one).
    world.view(2, 1, 180);
    world.run(Duration::from_millis(1_500));
    // Their link narrows to a little more than the teacher's voice and
    // picture: the server's estimate falls to what flows.
    world.squeeze(2, Some(80_000));
    world.run(Duration::from_secs(8));
    let mark = world.mark(2);
    world.run(Duration::from_millis(500));
    assert!(world.heard(2, 1, false, &mark) > 5, "the teacher's picture, at its lowest layer");
    // The link widens, and the page turns to show pupil 3 as well. Nothing
    // measured says there is room: only a probe towards what the page now
    // wants can find it.
    world.squeeze(2, None);
    world.run(Duration::from_secs(2));
    let want = [1, 3].map(|id| VideoWant { id: ParticipantId(id), source: MediaSource::Camera, height: 180 }).to_vec();
    world.sfu.command(Command::View { who: ParticipantId(2), want }, world.now);
    world.run(Duration::from_secs(10));
    let mark = world.mark(2);
    world.run(Duration::from_millis(500));
    assert!(world.heard(2, 3, false, &mark) > 5, "pupil 3's picture comes");
}

/// A teacher (1) whose camera sends L1T3 with pictures of a real camera's
/// size (its lowest layer about 100 kbit/s, the base temporal layer a
/// quarter) and voice, and a pupil (2) whose page shows it `height` device
/// pixels tall, settled for 3 s.
fn teacher_and_pupil(height: u32) -> World {
    let mut world = World::new();
    world.join(1, grant(true, true), Offer::default());
    world.join(2, grant(false, false), Offer::default());
    let teacher = world.get_mut(1);
    (teacher.camera_on, teacher.level, teacher.temporal, teacher.picture_bytes) = (true, Some(-20), true, 400);
    world.view(2, 1, height);
    world.run(Duration::from_secs(3));
    world
}

#[test]
fn a_link_too_narrow_for_the_lowest_layer_gets_a_lower_frame_rate_numbered_without_gaps() {
    let mut world = teacher_and_pupil(180);
    let mark = world.mark(2);
    world.run(Duration::from_secs(1));
    let wide = world.video_from(2, 1, &mark);
    assert!(wide.len() >= 25 && wide.iter().any(|g| g.tid == Some(2)), "every picture on a wide link: {} packets", wide.len());

    // The link into the pupil narrows below that layer and its voice.
    world.squeeze(2, Some(100_000));
    world.run(Duration::from_secs(8));
    let mark = world.mark(2);
    world.run(Duration::from_secs(2));
    let narrow = world.video_from(2, 1, &mark);
    let tids: Vec<Option<u8>> = narrow.iter().map(|g| g.tid).collect();
    assert!(narrow.len() >= 10, "the picture still moves, at a lower frame rate: {tids:?}");
    assert!(narrow.iter().all(|g| g.tid.is_some_and(|t| t < 2)), "only the lower temporal layers: {tids:?}");
    // What is left out leaves no hole in the numbering: a gap would read as
    // loss to the browser, which would ask for the packets again.
    let mut seqs: Vec<u64> = narrow.iter().map(|g| g.seq).collect();
    seqs.sort_unstable();
    let gaps = seqs.windows(2).filter(|w| w[1] != w[0] + 1).count();
    assert!(gaps * 10 <= seqs.len(), "{gaps} gaps in {} packets: {seqs:?}", seqs.len());
    let voice = world.heard(2, 1, true, &mark);
    assert!(voice >= 90, "the voice is whole: {voice} packets in 2 s ({} datagrams dropped by the link so far)", world.dropped);

    // The link recovers: every picture again.
    world.squeeze(2, None);
    world.run(Duration::from_secs(8));
    let mark = world.mark(2);
    world.run(Duration::from_secs(1));
    let back = world.video_from(2, 1, &mark);
    assert!(back.len() >= 25 && back.iter().any(|g| g.tid == Some(2)), "every picture again: {} packets", back.len());
}

/// Pictures `viewer` got from `sender` in each of `windows` windows of
/// `each`, as the world runs on.
fn pictures_per_window(world: &mut World, viewer: u64, sender: u64, windows: usize, each: Duration) -> Vec<usize> {
    (0..windows)
        .map(|_| {
            let mark = world.mark(viewer);
            world.run(each);
            let mut seqs: Vec<u64> = world.video_from(viewer, sender, &mark).iter().map(|g| g.seq).collect();
            seqs.sort_unstable();
            seqs.dedup();
            seqs.len()
        })
        .collect()
}

#[test]
fn a_pupil_on_a_slow_lossy_link_keeps_a_moving_picture_and_the_whole_voice() {
    let mut world = teacher_and_pupil(360);
    // 150 kbit/s with one datagram in ten lost (the bad link): the
    // lowest layer whole (about 110 kbit/s with its headers) and the voice
    // no longer both fit.
    world.squeeze(2, Some(150_000));
    world.lose(2, 10);
    world.run(Duration::from_secs(8));
    let mark = world.mark(2);
    let overflowed = world.overflowed;
    let windows = pictures_per_window(&mut world, 2, 1, 20, Duration::from_millis(500));
    let voice = world.heard(2, 1, true, &mark);
    let total: usize = windows.iter().sum();
    // The base temporal layer alone is 7.5 pictures a second; usually the
    // next one fits too (15).
    assert!(total >= 60, "at least 6 pictures a second over 10 s: {total}, by half second {windows:?}");
    assert!(windows.iter().all(|&n| n >= 2), "no half second without pictures: {windows:?}");
    // Sound is not sent again (browsers protect it with redundancy): what
    // the link loses is lost, and nothing more.
    assert!(voice >= 415, "the voice loses not much more than the link does: {voice} of 500 packets in 10 s");
    assert_eq!(world.overflowed, overflowed, "the link's queue never overflowed");
}
