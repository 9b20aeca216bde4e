//! The `entente` binary: parse the command line, start logging, run the command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use entente::cli::LogFormat;

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let arena_error = one_malloc_arena();
    let cli = entente::cli::Cli::parse();
    init_tracing(&cli.command, cli.log_format);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Some(err) = arena_error {
        tracing::debug!(
            "cannot restart with MALLOC_ARENA_MAX=1, running with glibc's default: {err}"
        );
    }
    match entente::app::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs go to stderr, filtered by RUST_LOG, as text lines or, for log shippers, one
/// JSON object a line. By default the daemon logs entente's info lines (its log is
/// its output); a one-shot command prints its results on stdout, so its log carries
/// only warnings, and a result is not printed twice.
fn init_tracing(command: &entente::cli::Command, format: LogFormat) {
    let default = match command {
        entente::cli::Command::Run { .. } => "warn,entente=info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

/// glibc gives each thread that allocates a malloc arena of its own (up to eight a core)
/// and keeps what was freed in it: at the peak of a 2,000-feed first pass 9 arenas held
/// 21 MB, for 45–49 MB peak RSS against 39.5–40.5 MB in one arena, malloc's share of
/// the CPU profile unchanged (BENCHMARKS.md, branch mem5). glibc
/// reads `MALLOC_ARENA_MAX` once, when the process starts, and `mallopt` is `unsafe`
/// (forbidden here), so the process becomes itself again with the variable set: the same
/// pid, arguments and file descriptors, before anything is read or opened. An operator's
/// own setting (the variable, or `arena_max` in `GLIBC_TUNABLES`) is kept. Returns only
/// when it did not exec: the error if there was one.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn one_malloc_arena() -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt;
    let tunables = std::env::var_os("GLIBC_TUNABLES").unwrap_or_default();
    if std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || tunables.to_string_lossy().contains("arena_max")
    {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return Some(err),
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    Some(command.args(args).env("MALLOC_ARENA_MAX", "1").exec())
}
