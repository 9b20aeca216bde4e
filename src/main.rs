//! The `entente` binary: parse the command line, start logging, run the command.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use entente::cli::LogFormat;

fn main() -> ExitCode {
    let cli = entente::cli::Cli::parse();
    init_tracing(&cli.command, cli.log_format);
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
