//! `wechatpay`: call WeChat Pay APIv3 from the shell, manage certificates, check notifications,
//! and run the local emulator.

/// `println!` that ignores a closed stdout (`wechatpay … | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed stderr (`wechatpay -vv … 2>&1 | head` must not panic).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod bill;
mod call;
mod certificates;
mod config;
mod doctor;
mod emulator;
mod endpoints;
mod fields;
mod files;
mod notify;
mod output;
mod sign;
mod trace;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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
    /// Say more on stderr: -v status, Request-ID and time; -vv each request and answer with the
    /// signed message (the signature itself is never shown)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
    /// Bills: `wechatpay bill download --date 2026-11-26 -o bill.csv`
    Bill {
        #[command(subcommand)]
        command: bill::BillCommand,
    },
    /// Platform certificates
    Certificates {
        #[command(subcommand)]
        command: certificates::CertificatesCommand,
    },
    /// Callback notifications
    Notify {
        #[command(subcommand)]
        command: notify::NotifyCommand,
    },
    /// Pay-sign parameters for the WeChat clients
    Sign(sign::SignArgs),
    /// Encrypt a sensitive field with the WeChat Pay key (RSA-OAEP); the serial goes to stderr
    Encrypt(fields::EncryptArgs),
    /// Decrypt a field WeChat Pay encrypted with the merchant key
    Decrypt(fields::DecryptArgs),
    /// Run the local WeChat Pay emulator and print the settings a client needs
    Emulator(emulator::EmulatorArgs),
    /// Check the configuration against the server: key and serial, clock, verification mode
    Doctor(doctor::DoctorArgs),
    /// Search the endpoint catalog by path or (Chinese) title
    Endpoints(endpoints::EndpointsArgs),
    /// Print a shell completion script: `wechatpay completions bash > /etc/bash_completion.d/wechatpay`
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

/// Parses the arguments; a usage error is printed with secret values taken out (clap quotes the
/// offending argument, which may be a private key pasted in the wrong place).
fn parse() -> Cli {
    // An empty WECHATPAY_* variable means "not set" (`WECHATPAY_PROFILE= wechatpay …`), not an
    // empty value; main has not started any thread yet.
    for (name, value) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WECHATPAY_") && value.to_string_lossy().trim().is_empty() {
            std::env::remove_var(name);
        }
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let rendered = e.render().to_string();
            {
                use std::io::Write as _;
                let _ = write!(
                    std::io::stderr().lock(),
                    "{}",
                    output::redacted_usage_error(&rendered, &args)
                );
            }
            std::process::exit(e.exit_code())
        }
    }
}

fn main() -> ExitCode {
    let cli = parse();
    let (settings, verbose) = (&cli.settings, cli.verbose);
    // The verbs print an API error's body themselves, in the style their flags ask for.
    let verb = matches!(
        cli.command,
        Command::Get(_) | Command::Post(_) | Command::Put(_) | Command::Patch(_) | Command::Delete(_)
    );
    let outcome = match cli.command {
        Command::Get(args) => call::run(settings, http::Method::GET, args, verbose),
        Command::Post(args) => call::run(settings, http::Method::POST, args, verbose),
        Command::Put(args) => call::run(settings, http::Method::PUT, args, verbose),
        Command::Patch(args) => call::run(settings, http::Method::PATCH, args, verbose),
        Command::Delete(args) => call::run(settings, http::Method::DELETE, args, verbose),
        Command::Bill { command } => bill::run(settings, command, verbose),
        Command::Certificates { command } => certificates::run(settings, command, verbose),
        Command::Notify { command } => notify::run(settings, command),
        Command::Sign(args) => sign::run(settings, args),
        Command::Encrypt(args) => fields::encrypt(settings, args),
        Command::Decrypt(args) => fields::decrypt(settings, args),
        Command::Emulator(args) => emulator::run(args),
        Command::Doctor(args) => doctor::run(settings, args),
        Command::Endpoints(args) => {
            endpoints::run(args);
            Ok(())
        }
        Command::Completions { shell } => {
            // Into memory first: the generator panics on a write error (`… | head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wechatpay", &mut script);
            output::body(&script, output::BodyStyle::Raw);
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Every command that fails with an API error puts its body on stdout for scripts.
            if let Some(api) = e.api().filter(|_| !verb) {
                output::body(api.response().bytes(), output::BodyStyle::choose(false, false));
            }
            report(&e)
        }
    }
}

/// Prints the error's kind and details on stderr; the exit code tells the kind apart for scripts:
/// 1 API error (its body is on stdout), 3 configuration or input (a bad key, ciphertext or flag
/// value), 4 transport or timeout, 5 verification failure, 6 other (2 stays clap's: a usage error).
fn report(error: &wechatpay::Error) -> ExitCode {
    // A retried call is reported by its last attempt's kind (the predicates look through).
    let (kind, code) = if error.is_api() {
        ("api", 1)
    } else if error.is_verify() {
        ("verification", 5)
    } else if error.is_config() || error.is_key() || error.is_template() || error.is_crypto() {
        ("configuration or input", 3)
    } else if error.is_transport() || error.is_timeout() || error.is_rate_limited() {
        ("transport", 4)
    } else {
        ("error", 6)
    };
    // Everything below may quote the server: one line each, control characters escaped.
    let line = |text: &dyn std::fmt::Display| output::one_line(&text.to_string());
    note!("error ({kind}): {}", line(error));
    if let Some(api) = error.api() {
        note!("  status:     {}", api.status());
        note!("  code:       {}", line(&api.code()));
        note!("  message:    {}", line(&api.message()));
        if let Some(detail) = api.detail() {
            let pretty = serde_json::to_string_pretty(detail).unwrap_or_default();
            note!("  detail:     {}", output::terminal_safe(&pretty));
        }
        note!("  Request-ID: {}", line(&api.request_id().unwrap_or("-")));
    }
    if let Some(verify) = error.verify() {
        note!("  check:      {}", line(verify.check()));
        if let Some(id) = verify.response().and_then(wechatpay::Response::request_id) {
            note!("  Request-ID: {}", line(&id));
        }
    }
    // Each cause once: a cause whose text an earlier line already holds is not repeated.
    let mut shown = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.iter().any(|earlier| earlier.contains(&text)) {
            note!("  caused by:  {}", line(&text));
            shown.push(text);
        }
        source = cause.source();
    }
    ExitCode::from(code)
}
