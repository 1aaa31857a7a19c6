//! `kubeharden serve`: the admission webhook (crates/webhook), with its flags.

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use kubeharden_cluster::namespaces::NamespaceCache;
use kubeharden_engine::source::DiagLevel;
use kubeharden_webhook::namespaces::{Namespaces, Unavailable};
use kubeharden_webhook::{Policy, Reviewer, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// Where the webhook reads the Namespaces of admitted objects (for the user's policies that
/// select by namespace labels or read `namespaceObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NamespaceSource {
    /// From the API server, only when a policy needs them: a list-and-watch cache, with a GET on
    /// a miss (RBAC: get, list, watch on namespaces).
    Api,
    /// Not read: such policies are not evaluated on namespaced objects and follow their
    /// failurePolicy (Fail: denied; Ignore: admitted with a warning).
    None,
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
    /// Where the Namespaces of admitted objects are read when a --policy needs their labels
    /// (`namespaceSelector`, `namespaceObject`): `api` (the in-cluster service account or
    /// --kubeconfig; needs get, list and watch on namespaces) or `none`.
    #[arg(long, value_enum, default_value = "api", env = "KUBEHARDEN_NAMESPACES")]
    pub namespaces: NamespaceSource,
    /// The kubeconfig for --namespaces api (default: in-cluster, $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
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
    let mut reviewer = Reviewer::new(policy);
    if reviewer.admission_needs().iter().any(|n| n.namespace) {
        let source = match args.namespaces {
            NamespaceSource::None => Arc::new(Unavailable(
                "the webhook was started with --namespaces none".into(),
            )) as Arc<dyn Namespaces>,
            NamespaceSource::Api => rt.block_on(namespace_cache(args.kubeconfig.as_deref())),
        };
        reviewer = reviewer.with_namespaces(source);
    }
    let served = rt.block_on(kubeharden_webhook::serve(opts, reviewer));
    // Every request has been answered (or its connection closed at the grace period); an
    // evaluation abandoned at its deadline may still run on a blocking thread: do not wait for
    // it (dropping the runtime would).
    rt.shutdown_background();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// The Namespaces of the cluster, for policies that select by their labels: a cache started
/// here (waiting up to 5 s for its first list; later misses are read with a GET), or, when the
/// API server cannot be reached, a source that says why (such policies then follow their
/// failurePolicy).
async fn namespace_cache(kubeconfig: Option<&std::path::Path>) -> Arc<dyn Namespaces> {
    let target = match kubeharden_cluster::connect(kubeconfig, None, Duration::from_secs(10)).await
    {
        Ok(t) => t,
        Err(e) => {
            let why = format!("cannot connect to the API server to read Namespaces: {e}");
            eprintln!("warning: {why}");
            return Arc::new(Unavailable(why));
        }
    };
    let cache = NamespaceCache::start(&target);
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while !cache.is_synced() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !cache.is_synced() {
        eprintln!(
            "warning: the Namespaces of {} are not listed yet; lookups read them one by one until they are",
            cache.server()
        );
    }
    Arc::new(ClusterNamespaces(cache))
}

/// [`NamespaceCache`] as the webhook's [`Namespaces`].
struct ClusterNamespaces(NamespaceCache);

impl Namespaces for ClusterNamespaces {
    fn get(&self, name: &str) -> Result<Option<Arc<serde_json::Value>>, String> {
        self.0.get(name)
    }
    fn describe(&self) -> String {
        format!(
            "a list-and-watch cache of the Namespaces of {} ({})",
            self.0.server(),
            if self.0.is_synced() {
                "synced"
            } else {
                "not synced yet"
            }
        )
    }
}

/// Loads `--policy` paths into the webhook policy; any error in them is fatal (a webhook must
/// not start enforcing less than it was told to).
fn with_custom_policies(policy: Policy, paths: &[PathBuf]) -> Result<Policy> {
    if paths.is_empty() {
        return Ok(policy);
    }
    let custom = crate::custom_policies::load(&[], paths, true, false)?;
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
