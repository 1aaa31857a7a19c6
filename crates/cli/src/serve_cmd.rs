//! `kubeharden serve`: the admission webhook (crates/webhook), with its flags.

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use kubeharden_engine::source::DiagLevel;
use kubeharden_webhook::{Policy, Reviewer, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// What a request whose evaluation overruns `--eval-timeout` gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnEvalTimeout {
    /// A denial saying the object could not be judged in time.
    Deny,
    /// HTTP 503: the API server applies the webhook's failurePolicy (Ignore admits it).
    Error,
}

/// `10s`, `500ms`, `2m`, or a number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 10s, 500ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

#[derive(Args)]
pub struct ServeArgs {
    /// HTTPS address of the webhook (`POST /validate`, `POST /mutate`) and of /healthz, /readyz,
    /// /metrics.
    #[arg(long, default_value = "0.0.0.0:8443", env = "KUBEHARDEN_ADDR")]
    pub addr: SocketAddr,
    /// Also serve /metrics, /healthz and /readyz over plain HTTP on this address.
    #[arg(long, env = "KUBEHARDEN_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// PEM certificate chain (re-read when it changes).
    #[arg(long, env = "KUBEHARDEN_TLS_CERT")]
    pub tls_cert: PathBuf,
    /// PEM private key (re-read when it changes).
    #[arg(long, env = "KUBEHARDEN_TLS_KEY")]
    pub tls_key: PathBuf,
    /// How often the certificate and key files are checked for changes.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub cert_reload_interval: Duration,
    /// The webhook policy (modes, exemptions, `kubehardenConfig`); see crates/webhook/README.md.
    /// Without it: critical and high findings deny, medium and low warn, info audits.
    #[arg(long, env = "KUBEHARDEN_WEBHOOK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Larger request bodies are answered 413.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Time to receive a request body (408 after it).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Time to judge a received request, waiting for an evaluation slot included; at the
    /// deadline the request is answered at once (--on-eval-timeout) and its evaluation is
    /// abandoned. Keep it under the ValidatingWebhookConfiguration's timeoutSeconds.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub eval_timeout: Duration,
    /// What a request whose evaluation overruns --eval-timeout gets: `deny` (a denial saying it
    /// could not be judged in time) or `error` (HTTP 503, so that the API server applies the
    /// webhook's failurePolicy).
    #[arg(long, value_enum, default_value = "deny")]
    pub on_eval_timeout: OnEvalTimeout,
    /// Evaluations at a time (default: one per CPU, at least 2); more requests wait for a slot
    /// within --eval-timeout.
    #[arg(long)]
    pub eval_concurrency: Option<usize>,
    /// Time for the TLS handshake, the request headers and the first request of a connection.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// On SIGTERM: /readyz fails at once, requests are served for this long, then the server
    /// stops accepting and finishes in-flight requests.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub shutdown_delay: Duration,
    /// Longest wait for in-flight requests after the shutdown delay.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Async worker threads (default: one per CPU).
    #[arg(long)]
    pub workers: Option<usize>,
    #[arg(long, value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Log level (`RUST_LOG` takes precedence): `info` logs every review with findings, `debug`
    /// every review and finding.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Files or directories of Gatekeeper ConstraintTemplates and Constraints and
    /// ValidatingAdmissionPolicies with their bindings and parameters, enforced next to the
    /// built-in rules (repeatable). A policy that cannot be read stops the server from starting.
    #[arg(
        long = "policy",
        value_name = "PATH",
        env = "KUBEHARDEN_POLICY",
        value_delimiter = ','
    )]
    pub policies: Vec<PathBuf>,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    kubeharden_webhook::init_logging(args.log_format == LogFormat::Json, &args.log_level);
    let policy = match &args.config {
        Some(p) => Policy::load(p).with_context(|| format!("webhook config {}", p.display()))?,
        None => Policy::default(),
    };
    let policy = with_custom_policies(policy, &args.policies)?;
    let mut opts = ServeOptions::new(args.addr, args.tls_cert, args.tls_key);
    opts.metrics_addr = args.metrics_addr;
    opts.cert_reload_interval = args.cert_reload_interval;
    opts.max_body_bytes = args.max_body_bytes;
    opts.request_timeout = args.request_timeout;
    opts.eval_timeout = args.eval_timeout;
    opts.on_eval_timeout = match args.on_eval_timeout {
        OnEvalTimeout::Deny => kubeharden_webhook::review::OnTimeout::Deny,
        OnEvalTimeout::Error => kubeharden_webhook::review::OnTimeout::Error,
    };
    opts.eval_concurrency = args.eval_concurrency;
    opts.handshake_timeout = args.handshake_timeout;
    opts.shutdown_delay = args.shutdown_delay;
    opts.shutdown_grace = args.shutdown_grace;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.workers {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build()?;
    let served = rt.block_on(kubeharden_webhook::serve(opts, Reviewer::new(policy)));
    // Every request has been answered (or its connection closed at the grace period); an
    // evaluation abandoned at its deadline may still run on a blocking thread: do not wait for
    // it (dropping the runtime would).
    rt.shutdown_background();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Loads `--policy` paths into the webhook policy; any error in them is fatal (a webhook must
/// not start enforcing less than it was told to).
fn with_custom_policies(policy: Policy, paths: &[PathBuf]) -> Result<Policy> {
    if paths.is_empty() {
        return Ok(policy);
    }
    let custom = crate::custom_policies::load(&[], paths, true)?;
    let diagnostics = custom.diagnostics();
    for d in &diagnostics {
        let at = match (d.line, d.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            _ => String::new(),
        };
        let level = format!("{:?}", d.level).to_lowercase();
        eprintln!("{level}: {}{at}: {}", d.origin, d.message);
    }
    if diagnostics.iter().any(|d| d.level == DiagLevel::Error) {
        anyhow::bail!("the policies given with --policy have errors (above)");
    }
    Ok(match custom.engine() {
        Some(engine) => policy.with_custom(engine),
        None => anyhow::bail!(
            "no Gatekeeper constraint or ValidatingAdmissionPolicy binding found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("x").is_err());
    }
}
