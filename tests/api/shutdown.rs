use std::time::{Duration, Instant};

use crate::helpers::spawn_process;

#[tokio::test]
async fn sigterm_tells_every_socket_going_away_and_exits_cleanly_in_time() {
    let mut server = spawn_process().await;
    let host = &server.visitor;
    host.sign_up("host@example.org", "Host", "correct horse battery").await;
    host.sign_in("host@example.org", "correct horse battery").await;
    let slug = host.create_room("Clinic").await.slug;
    let mut guest = host.socket().await;
    guest.join(&slug, "Guest").await;
    let mut lurker = host.socket().await; // connected, never joined

    let started = Instant::now();
    let exit = server.terminate(Duration::from_secs(15));
    // Told long before the server's own deadline; a machine busy with the
    // other tests (CI: four at a time on two cores) once took over 3 s.
    let (exit, ()) = tokio::join!(exit, async {
        guest.expect_closed_within(Some(1001), Duration::from_secs(8)).await;
        lurker.expect_closed_within(Some(1001), Duration::from_secs(8)).await;
    });
    let exit = exit.expect("the server did not exit within 15 s");
    assert!(exit.success(), "the server exited with {exit}");
    assert!(started.elapsed() < Duration::from_secs(12), "shutdown took {:?}", started.elapsed());
}
