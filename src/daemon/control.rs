//! How a running daemon is asked to reload, fetch or stop.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Clock;

/// What the daemon is asked to do while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Read the configuration files again (SIGHUP, `entente reload`, a file edit).
    Reload,
    /// Fetch this source now.
    FetchNow(String),
}

/// Asks a running daemon to reload, fetch or stop; cheap to clone.
#[derive(Debug, Clone)]
pub struct Controller {
    commands: mpsc::UnboundedSender<Command>,
    shutdown: CancellationToken,
}

impl Controller {
    pub fn reload(&self) {
        let _ = self.commands.send(Command::Reload);
    }

    pub fn fetch_now(&self, source: &str) {
        let _ = self.commands.send(Command::FetchNow(source.to_string()));
    }

    /// Stop new work; work in flight gets the grace period.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}

/// The daemon's end of the [`Controller`], given to [`run`](super::run).
pub struct Control {
    pub(super) commands: mpsc::UnboundedReceiver<Command>,
    pub(super) shutdown: CancellationToken,
    pub(super) clock: Clock,
    /// Watch feeds.toml and the rules file (tests that drive reloads themselves may not).
    pub(super) watch_files: bool,
}

impl Control {
    /// The scheduler reads `clock` instead of the system's (tests on paused time).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Control {
        self.clock = clock;
        self
    }

    /// Reload only when asked, not on file edits.
    #[must_use]
    pub fn without_file_watch(mut self) -> Control {
        self.watch_files = false;
        self
    }
}

/// A controller and the control it drives.
pub fn control() -> (Controller, Control) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    (
        Controller {
            commands: sender,
            shutdown: shutdown.clone(),
        },
        Control {
            commands: receiver,
            shutdown,
            clock: Clock::System,
            watch_files: true,
        },
    )
}
