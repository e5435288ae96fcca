//! `wechatpay`: call WeChat Pay APIv3 from the shell, manage certificates, check notifications,
//! and run the local emulator.

/// `println!` that ignores a closed stdout (`wechatpay … | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod call;
mod config;
mod emulator;
mod output;
mod tools;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use config::Settings;

#[derive(Parser)]
#[command(
    name = "wechatpay",
    version,
    about = "WeChat Pay (微信支付) APIv3 from the command line"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// GET a path: `wechatpay get v3/certificates`
    #[command(alias = "GET")]
    Get(call::CallArgs),
    /// POST a path: `wechatpay post v3/pay/transactions/native --json '{…}'`
    #[command(alias = "POST")]
    Post(call::CallArgs),
    /// PUT a path
    #[command(alias = "PUT")]
    Put(call::CallArgs),
    /// PATCH a path
    #[command(alias = "PATCH")]
    Patch(call::CallArgs),
    /// DELETE a path
    #[command(alias = "DELETE")]
    Delete(call::CallArgs),
    /// Platform certificates
    Certificates {
        #[command(subcommand)]
        command: tools::CertificatesCommand,
    },
    /// Callback notifications
    Notify {
        #[command(subcommand)]
        command: tools::NotifyCommand,
    },
    /// Pay-sign parameters for the WeChat clients
    Sign(tools::SignArgs),
    /// Encrypt a sensitive field with the WeChat Pay key (RSA-OAEP)
    Encrypt(tools::EncryptArgs),
    /// Decrypt a field WeChat Pay encrypted with the merchant key
    Decrypt(tools::DecryptArgs),
    /// Run the local WeChat Pay emulator and print the settings a client needs
    Emulator(emulator::EmulatorArgs),
    /// Check the configuration against the server: key and serial, clock, verification mode
    Doctor,
    /// Search the endpoint catalog by path or (Chinese) title
    Endpoints {
        /// Part of a path or title; all endpoints when absent
        query: Option<String>,
    },
}

/// Parses the arguments; a usage error is printed with secret values taken out (clap quotes the
/// offending argument, which may be a private key pasted in the wrong place).
fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let rendered = e.render().to_string();
            eprint!("{}", output::redacted_usage_error(&rendered, &args));
            std::process::exit(e.exit_code())
        }
    }
}

fn main() -> ExitCode {
    let cli = parse();
    let outcome = match cli.command {
        Command::Get(args) => call::run(&cli.settings, http::Method::GET, args),
        Command::Post(args) => call::run(&cli.settings, http::Method::POST, args),
        Command::Put(args) => call::run(&cli.settings, http::Method::PUT, args),
        Command::Patch(args) => call::run(&cli.settings, http::Method::PATCH, args),
        Command::Delete(args) => call::run(&cli.settings, http::Method::DELETE, args),
        Command::Certificates { command } => tools::certificates(&cli.settings, command),
        Command::Notify { command } => tools::notify(&cli.settings, command),
        Command::Sign(args) => tools::sign(&cli.settings, args),
        Command::Encrypt(args) => tools::encrypt(&cli.settings, args),
        Command::Decrypt(args) => tools::decrypt(&cli.settings, args),
        Command::Emulator(args) => emulator::run(args),
        Command::Doctor => tools::doctor(&cli.settings),
        Command::Endpoints { query } => {
            tools::endpoints(query.as_deref().unwrap_or(""));
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// Prints the error's kind and details; the exit code tells the kind apart for scripts:
/// 1 API error, 3 configuration or input, 4 transport or timeout, 5 verification failure, 6 other
/// (2 stays clap's: a usage error).
fn report(error: &wechatpay::Error) -> ExitCode {
    // A retried call is reported by its last attempt's kind (the predicates look through).
    let (kind, code) = if error.is_api() {
        ("api", 1)
    } else if error.is_verify() {
        ("verification", 5)
    } else if error.is_config() || error.is_key() || error.is_template() {
        ("configuration", 3)
    } else if error.is_transport() || error.is_timeout() || error.is_rate_limited() {
        ("transport", 4)
    } else {
        ("error", 6)
    };
    // Everything below may quote the server: one line each, control characters escaped.
    let line = |text: &dyn std::fmt::Display| output::one_line(&text.to_string());
    eprintln!("error ({kind}): {}", line(error));
    if let Some(api) = error.api() {
        eprintln!("  status:     {}", api.status());
        eprintln!("  code:       {}", line(&api.code()));
        eprintln!("  message:    {}", line(&api.message()));
        if let Some(detail) = api.detail() {
            let pretty = serde_json::to_string_pretty(detail).unwrap_or_default();
            eprintln!("  detail:     {}", output::terminal_safe(&pretty));
        }
        eprintln!("  Request-ID: {}", line(&api.request_id().unwrap_or("-")));
    }
    if let Some(verify) = error.verify() {
        eprintln!("  check:      {}", line(verify.check()));
        if let Some(id) = verify.response().and_then(wechatpay::Response::request_id) {
            eprintln!("  Request-ID: {}", line(&id));
        }
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("  caused by:  {}", line(cause));
        source = cause.source();
    }
    ExitCode::from(code)
}
