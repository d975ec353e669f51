//! The media server's adapter: one UDP port and one thread of its own.
//!
//! The thread owns the socket and the Sans-IO [`Sfu`]; it never blocks the
//! HTTP side (no lock is shared with it) and is never blocked by it
//! (password hashing, the database and page rendering run on the other
//! threads). Commands come in over a channel from signaling; messages for a
//! participant go back out through `deliver`.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::call::protocol::{ParticipantId, ServerMessage};
use crate::call::sfu::{self, Command, Output, Sfu};

/// Where the media server listens, and the address browsers are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaAddress {
    /// The UDP port's address (`HUDDLE_MEDIA_ADDR`).
    pub bind: SocketAddr,
    /// The IP browsers reach it at, when not the bound one (behind NAT:
    /// `HUDDLE_MEDIA_PUBLIC_IP`).
    pub public_ip: Option<IpAddr>,
}

/// Socket buffers asked for: default ones drop packets in bursts (a
/// keyframe to 40 receivers) even on one machine.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;
/// The longest the loop sleeps: speakers, layers and keyframe retries are
/// looked at this often.
const TICK: Duration = Duration::from_millis(50);
/// Datagrams read in one go before the loop looks at commands again.
const BATCH: usize = 64;

/// A running media server: where it listens, and how to tell it things.
pub struct MediaServer {
    commands: mpsc::UnboundedSender<Command>,
    address: SocketAddr,
}

impl MediaServer {
    /// Binds the UDP port and starts the media thread. Messages it has for
    /// participants go to `deliver`. An error names the address: nothing is
    /// started.
    pub fn start(at: MediaAddress, deliver: impl Fn(ParticipantId, ServerMessage) + Send + 'static) -> io::Result<Self> {
        let socket = UdpSocket::bind(at.bind)?;
        socket.set_nonblocking(true)?;
        raise_buffers(&socket);
        let bound = socket.local_addr()?;
        let address = SocketAddr::new(at.public_ip.unwrap_or(bound.ip()), bound.port());
        if address.ip().is_unspecified() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the media port is bound to every address: name the one browsers reach"));
        }
        let (commands, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new().name("huddle-media".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => return tracing::error!(%error, "the media server could not start its runtime"),
            };
            runtime.block_on(run(socket, sfu::Config { address }, rx, deliver));
        })?;
        tracing::info!(%address, "media server listening (UDP)");
        Ok(Self { commands, address })
    }

    /// Passes a decision of the hub on. Never blocks.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The address browsers send media to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

async fn run(socket: UdpSocket, config: sfu::Config, mut commands: mpsc::UnboundedReceiver<Command>, deliver: impl Fn(ParticipantId, ServerMessage)) {
    let Ok(socket) = tokio::net::UdpSocket::from_std(socket) else {
        return tracing::error!("the media port could not join the media thread's runtime");
    };
    let mut sfu = Sfu::new(config);
    let mut buf = vec![0u8; 2000];
    loop {
        let wake = sfu.deadline().map_or(Instant::now() + TICK, |d| d.min(Instant::now() + TICK));
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = received {
                    guarded(|| sfu.receive(Instant::now(), from, &buf[..n]));
                    carry_out(&mut sfu, &socket, &deliver);
                }
                // Whatever else is waiting, before looking up again; each
                // datagram's forwarding leaves before the next is read.
                for _ in 1..BATCH {
                    match socket.try_recv_from(&mut buf) {
                        Ok((n, from)) => {
                            guarded(|| sfu.receive(Instant::now(), from, &buf[..n]));
                            carry_out(&mut sfu, &socket, &deliver);
                        }
                        Err(_) => break,
                    }
                }
            }
            command = commands.recv() => match command {
                Some(command) => guarded(|| sfu.command(command, Instant::now())),
                None => break,
            },
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        let now = Instant::now();
        if sfu.deadline().is_none_or(|d| d <= now) || now >= wake {
            guarded(|| sfu.tick(now));
        }
        carry_out(&mut sfu, &socket, &deliver);
    }
}

/// Sends what the media server has to send, and tells what it has to tell;
/// then, while a connection's deadline has already passed (its pacer lets
/// the next packet of a burst go), wakes them and sends again, at most
/// `BATCH` times: a paced burst leaves at once, not one packet per turn of
/// the loop (sfuload's meeting of 10: p99 added latency 35 -> 13 ms).
fn carry_out(sfu: &mut Sfu, socket: &tokio::net::UdpSocket, deliver: &impl Fn(ParticipantId, ServerMessage)) {
    send_out(sfu, socket, deliver);
    for _ in 0..BATCH {
        let now = Instant::now();
        if sfu.deadline().is_none_or(|d| d > now) {
            break;
        }
        guarded(|| sfu.wake(now));
        send_out(sfu, socket, deliver);
    }
}

fn send_out(sfu: &mut Sfu, socket: &tokio::net::UdpSocket, deliver: &impl Fn(ParticipantId, ServerMessage)) {
    for output in sfu.drain_output() {
        match output {
            // A full send buffer drops the datagram, as the network
            // would: str0m's retransmissions and keyframes recover.
            Output::Transmit { destination, data } => {
                let _ = socket.try_send_to(&data, destination);
            }
            Output::Tell { to, message } => deliver(to, message),
        }
    }
}

/// Runs one step of the media server; a panic in its own code (each
/// connection's are caught inside) is logged and the server goes on.
fn guarded(step: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(step)).is_err() {
        tracing::error!("the media server recovered from a panic");
    }
}

/// Asks for larger socket buffers; the kernel caps them at
/// `net.core.rmem_max` / `wmem_max` (see docs/deployment.md).
fn raise_buffers(socket: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let size = SOCKET_BUFFER as libc::c_int;
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a valid socket, an int option of the right size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}
