//! The HTTPS server: `POST /validate` (AdmissionReview), `POST /mutate` (JSONPatch of the safe
//! fixes), `/healthz`, `/readyz`, `/metrics`.
//!
//! - TLS: rustls with the ring provider, HTTP/2 and HTTP/1.1 (ALPN). The certificate and key are
//!   re-read every `cert_reload_interval`; when their bytes change (cert-manager renewal, a
//!   Secret volume's atomic symlink swap) a new TLS config is built and swapped in for new
//!   handshakes, while open connections keep theirs and are never dropped. A pair that does not
//!   load (a key that does not match, a half-written file) is logged and counted, and the previous
//!   one stays in use.
//! - Limits: a request body larger than `max_body_bytes` is answered 413 (over HTTP/1.1 the rest
//!   of the body is read and thrown away first, up to [`drain_limit`], so that a client that
//!   writes its whole body before reading gets the answer rather than a connection reset), a
//!   body not received within `request_timeout` 408, a wrong `Content-Type` 415, a malformed
//!   AdmissionReview 400, an object the engine cannot read 500 (so the API server applies the
//!   `failurePolicy`). TLS handshakes, request headers and the first request on a connection
//!   have timeouts too.
//! - Evaluation holds one of the evaluation slots (at most one per CPU at a time, a semaphore).
//!   A review of at most [`INLINE_MAX_BYTES`] by the built-in rules alone (no user policy, no
//!   Namespace lookup: time linear in the body, about 2 ms at most here) is evaluated on the
//!   connection's own thread when a slot is free: handing it to another thread and back cost
//!   more than the evaluation (`docs/performance.md`). Any other evaluation runs on the blocking
//!   pool within `eval_timeout` from the end of the body (waiting for a slot included). At the deadline the
//!   request is answered at once, by `on_eval_timeout`: a denial saying the object could not be
//!   judged in time (default) or 503 (the API server applies the `failurePolicy`). The evaluation
//!   is cancelled ([`Cancel`]): it stops at its next step (the user's policies, the old object of
//!   an UPDATE); a step already running ends on its own (Rust cannot preempt a thread) and keeps
//!   its slot until then, so abandoned evaluations never add threads or CPU beyond the slots.
//!   They are counted (`abandoned_evaluations`) and their end is logged.
//! - Shutdown: [`Running::shutdown`] turns `/readyz` to 503, waits `shutdown_delay` (while the
//!   endpoint is removed from the Service, requests are still served), then stops accepting and
//!   lets in-flight requests finish (at most `shutdown_grace`; each is answered by its
//!   evaluation deadline anyway). Abandoned evaluations are not waited for (`kubeharden serve`
//!   shuts its runtime down in the background).
//! - Text: every message written back (a denial, warnings, an error body) has its control
//!   characters escaped ([`crate::review::escape_controls`]).

use crate::admission::{ReviewIn, ReviewOut, VERSIONS};
use crate::metrics::{
    ExemptionLabels, FindingLabels, Metrics, ReloadLabels, RequestLabels, ReviewLabels,
    UnevaluableLabels,
};
use crate::policy::Mode;
use crate::review::{Cancel, Decision, OnTimeout, Outcome, Reviewer, escape_controls};
use anyhow::{Context as _, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// After a body over the limit (413), how much of it is read and thrown away over HTTP/1.1 so
/// that the client, which may write its whole body before it reads the answer, gets the 413
/// rather than a connection reset: four times the limit, at least 32 MiB, within the
/// request timeout. A larger declared body is refused without reading it.
pub fn drain_limit(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(4).max(32 << 20)
}

/// The default of `--eval-timeout`: a typical object is judged in well under a millisecond and
/// the largest the API server accepts (about 3 MiB) in a fraction of a second; the API server
/// waits `timeoutSeconds` (deploy/webhook: 5 s) for the whole call.
pub const DEFAULT_EVAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Server settings (`kubeharden serve` flags).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The HTTPS address of the webhook (and of `/healthz`, `/readyz`, `/metrics`).
    pub addr: SocketAddr,
    /// A plain-HTTP address serving only `/metrics`, `/healthz` and `/readyz`, if wanted.
    pub metrics_addr: Option<SocketAddr>,
    /// PEM certificate chain and private key.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub cert_reload_interval: Duration,
    pub max_body_bytes: usize,
    /// Receiving the body.
    pub request_timeout: Duration,
    /// Judging it, from the end of the body (waiting for an evaluation slot included).
    pub eval_timeout: Duration,
    /// What the request gets when its evaluation overruns `eval_timeout`.
    pub on_eval_timeout: OnTimeout,
    /// Evaluations at a time (default: one per CPU, at least 2).
    pub eval_concurrency: Option<usize>,
    /// TLS handshake, request headers, first request on a connection.
    pub handshake_timeout: Duration,
    pub shutdown_delay: Duration,
    pub shutdown_grace: Duration,
    /// Where `/mutate` writes the object for the fix engine (a private file per request).
    pub tmp_dir: PathBuf,
}

impl ServeOptions {
    pub fn new(addr: SocketAddr, tls_cert: PathBuf, tls_key: PathBuf) -> ServeOptions {
        ServeOptions {
            addr,
            metrics_addr: None,
            tls_cert,
            tls_key,
            cert_reload_interval: Duration::from_secs(2),
            // An object is at most ~1.5 MiB in etcd and a request at most 3 MiB; an UPDATE
            // review carries the object and the old object.
            max_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            eval_timeout: DEFAULT_EVAL_TIMEOUT,
            on_eval_timeout: OnTimeout::Deny,
            eval_concurrency: None,
            handshake_timeout: Duration::from_secs(5),
            shutdown_delay: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(25),
            tmp_dir: std::env::temp_dir(),
        }
    }
}

/// Shared by the handlers.
pub struct AppState {
    pub reviewer: Reviewer,
    pub metrics: Metrics,
    ready: AtomicBool,
    max_body_bytes: usize,
    request_timeout: Duration,
    eval_timeout: Duration,
    on_eval_timeout: OnTimeout,
    blocking: Arc<Semaphore>,
    tmp_dir: PathBuf,
}

impl AppState {
    /// The state of a server with these options (ready), for [`router`] and the handlers.
    pub fn new(reviewer: Reviewer, opts: &ServeOptions) -> AppState {
        let slots = opts.eval_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .max(2)
        });
        AppState {
            reviewer,
            metrics: Metrics::new(),
            ready: AtomicBool::new(true),
            max_body_bytes: opts.max_body_bytes,
            request_timeout: opts.request_timeout,
            eval_timeout: opts.eval_timeout,
            on_eval_timeout: opts.on_eval_timeout,
            blocking: Arc::new(Semaphore::new(slots.max(1))),
            tmp_dir: opts.tmp_dir.clone(),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// A server that is running.
pub struct Running {
    /// The HTTPS address actually bound (port 0 resolved).
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub state: Arc<AppState>,
    handle: Handle<SocketAddr>,
    metrics_handle: Option<Handle<SocketAddr>>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    reloader: JoinHandle<()>,
    shutdown_delay: Duration,
    shutdown_grace: Duration,
}

/// Builds a rustls server config (ring provider, TLS 1.2 and 1.3, h2 and http/1.1) from PEM.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("certificate PEM")?;
    if certs.is_empty() {
        anyhow::bail!("no certificate in the certificate PEM");
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).context("private key PEM")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn text(code: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    let mut body = escape_controls(&message, true).into_owned();
    body.push('\n');
    (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The routes of the HTTPS listener (`admission`) or of the plain metrics listener.
pub fn router(state: Arc<AppState>, admission: bool) -> Router {
    let mut r = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if admission {
        r = r
            .route("/validate", post(validate))
            .route("/mutate", post(mutate));
    }
    r.fallback(|| async { text(StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

async fn count(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = match req.uri().path() {
        "/validate" => "/validate",
        "/mutate" => "/mutate",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        _ => "other",
    };
    let response = next.run(req).await;
    let code = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels { path, code })
        .inc();
    response
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        text(StatusCode::OK, "ok")
    } else {
        text(StatusCode::SERVICE_UNAVAILABLE, "not ready (shutting down)")
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// A request answered with an error status, and the metric reason.
struct Failure {
    code: StatusCode,
    reason: &'static str,
    message: String,
}

fn fail(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Failure {
    // An error may quote the request (a diagnostic of the object): never a secret value.
    let message = message.into();
    Failure {
        code,
        reason,
        message: kubeharden_engine::redact::mask_text(&message).into_owned(),
    }
}

/// What one review produced, for the response, the log and the metrics.
struct Reviewed {
    body: Vec<u8>,
    uid: String,
    operation: String,
    kind: String,
    namespace: String,
    name: String,
    user: String,
    dry_run: bool,
    decision: Decision,
}

/// Parses an AdmissionReview body and checks its kind, version and request.
fn parse(body: &[u8]) -> Result<(String, crate::admission::Request<'_>), Failure> {
    let review: ReviewIn<'_> = serde_json::from_slice(body).map_err(|e| {
        fail(
            StatusCode::BAD_REQUEST,
            "malformed",
            format!("malformed AdmissionReview: {e}"),
        )
    })?;
    if review.kind != "AdmissionReview" || !VERSIONS.contains(&review.api_version.as_str()) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "malformed",
            format!(
                "expected an AdmissionReview of {}, got kind `{}` apiVersion `{}`",
                VERSIONS.join(" or "),
                review.kind,
                review.api_version
            ),
        ));
    }
    let Some(request) = review.request else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the AdmissionReview has no `request`",
        ));
    };
    if request.uid.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the AdmissionReview request has no `uid`",
        ));
    }
    Ok((review.api_version, request))
}

fn encode(out: &ReviewOut) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(out).map_err(|e| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "evaluation",
            format!("cannot encode the response: {e}"),
        )
    })
}

/// Parses and judges one AdmissionReview body; stops early once `cancel` is cancelled.
fn process(reviewer: &Reviewer, body: &[u8], cancel: &Cancel) -> Result<Reviewed, Failure> {
    let (api_version, request) = parse(body)?;
    // No snippets: an answer shows none, and masking the secrets in them (the object's whole
    // JSON line, for each finding) was 40% of the server's CPU per review.
    let decision =
        kubeharden_engine::rules::without_snippets(|| reviewer.review_with(&request, cancel))
            .map_err(|e| {
                fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "evaluation",
                    format!("kubeharden could not evaluate the object: {e}"),
                )
            })?;
    answer(api_version, request, decision)
}

/// The AdmissionReview answering `request` with `decision`'s response, and what is logged of it.
fn answer(
    api_version: String,
    request: crate::admission::Request<'_>,
    mut decision: Decision,
) -> Result<Reviewed, Failure> {
    let out = ReviewOut {
        api_version,
        kind: "AdmissionReview",
        response: std::mem::take(&mut decision.response),
    };
    let body = encode(&out)?;
    decision.response = out.response;
    Ok(Reviewed {
        body,
        uid: request.uid,
        operation: request.operation,
        kind: request.kind.kind,
        namespace: request.namespace,
        name: request.name,
        user: request.user_info.username,
        dry_run: request.dry_run == Some(true),
        decision,
    })
}

/// The answer to a request whose evaluation overran `eval_timeout`, by `on_eval_timeout`.
fn overrun(state: &AppState, body: &[u8]) -> Result<Reviewed, Failure> {
    let limit = state.eval_timeout;
    if state.on_eval_timeout == OnTimeout::Error {
        return Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("evaluation did not finish within {limit:?} (--eval-timeout)"),
        ));
    }
    let (api_version, request) = parse(body)?;
    let decision = Decision {
        outcome: Outcome::TimedOut,
        judged: Vec::new(),
        suppressed: 0,
        exemptions: Vec::new(),
        unevaluable: Vec::new(),
        response: crate::review::overrun_response(&request, limit),
    };
    answer(api_version, request, decision)
}

/// `POST /validate` without the HTTP server: one AdmissionReview body to the response body, or
/// the status and message the server answers a refused body with. The handler runs the same
/// [`process`], without the deadline; this adds no metrics and no log line (for tests). The
/// handler itself is [`validate`] (the `webhook` fuzz target runs it).
pub fn validate_body(reviewer: &Reviewer, body: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
    process(reviewer, body, &Cancel::new())
        .map(|r| r.body)
        .map_err(|f| (f.code, escape_controls(&f.message, true).into_owned()))
}

fn content_type_ok(req: &Request) -> Result<(), Failure> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!(
                "Content-Type must be application/json (an AdmissionReview), not `{}`",
                if ct.is_empty() { "none" } else { ct }
            ),
        ))
    }
}

/// The request body, at most `max_body_bytes`, within `request_timeout`.
async fn read_body(state: &AppState, req: Request) -> Result<Bytes, Failure> {
    let max = state.max_body_bytes;
    let too_large = || {
        fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body exceeds the limit of {max} bytes (--max-body-bytes)"),
        )
    };
    let deadline = tokio::time::Instant::now() + state.request_timeout;
    // Over HTTP/2 a refused stream is reset alone; a client that sent `Expect: 100-continue`
    // has not sent its body yet, and reading it would ask for it.
    let expects_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let drain_ok = req.version() < Version::HTTP_2 && !expects_continue;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = req.into_body();
    let drain_max = drain_limit(max) as u64;
    if let Some(len) = declared
        && len > max as u64
    {
        if drain_ok && len <= drain_max {
            let _ = tokio::time::timeout_at(deadline, drain(&mut body, drain_max)).await;
        }
        return Err(too_large());
    }
    enum Read {
        Body(Bytes),
        TooLarge(u64),
    }
    let read = async {
        // Not the declared length up front: a client may declare 8 MiB and send nothing.
        let mut buf = BytesMut::with_capacity(declared.map_or(0, |l| l as usize).min(256 << 10));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                fail(
                    StatusCode::BAD_REQUEST,
                    "body_read",
                    format!("cannot read the request body: {e}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > max {
                    return Ok(Read::TooLarge((buf.len() + data.len()) as u64));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok::<_, Failure>(Read::Body(buf.freeze()))
    };
    match tokio::time::timeout_at(deadline, read).await {
        Err(_) => Err(fail(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "request body not received within {:?} (--request-timeout)",
                state.request_timeout
            ),
        )),
        Ok(Err(f)) => Err(f),
        Ok(Ok(Read::Body(b))) => Ok(b),
        Ok(Ok(Read::TooLarge(seen))) => {
            if drain_ok {
                let rest = drain_max.saturating_sub(seen);
                let _ = tokio::time::timeout_at(deadline, drain(&mut body, rest)).await;
            }
            Err(too_large())
        }
    }
}

/// Reads and throws away the rest of a body, at most `limit` bytes.
async fn drain(body: &mut Body, limit: u64) {
    let mut seen = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > limit {
                return;
            }
        }
    }
}

/// `POST /validate`: the handler of the router (also run by the `webhook` fuzz target).
pub async fn validate(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let start = Instant::now();
    state.metrics.in_flight.inc();
    let result = validate_inner(&state, req).await;
    state.metrics.in_flight.dec();
    match result {
        Ok(reviewed) => {
            state
                .metrics
                .review_seconds
                .observe(start.elapsed().as_secs_f64());
            record(&state, &reviewed, start);
            let mut response = Response::new(Body::from(reviewed.body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(f) => {
            state.metrics.error(f.reason);
            tracing::warn!(
                target: "kubeharden::webhook",
                status = f.code.as_u16(),
                reason = f.reason,
                error = %f.message,
                "request rejected"
            );
            text(f.code, f.message)
        }
    }
}

async fn validate_inner(state: &Arc<AppState>, req: Request) -> Result<Reviewed, Failure> {
    content_type_ok(&req)?;
    let body = read_body(state, req).await?;
    let st = state.clone();
    let b = body.clone();
    let inline = body.len() <= INLINE_MAX_BYTES && state.reviewer.is_builtin_only();
    match run_with_deadline(state, inline, move |cancel| {
        process(&st.reviewer, &b, cancel)
    })
    .await
    {
        Some(result) => result,
        None => overrun(state, &body),
    }
}

/// Marks an evaluation finished when dropped (also by a panic); if the server had given up on
/// it, the end of the abandoned evaluation is counted and logged.
struct Finished {
    cancel: Cancel,
    state: Arc<AppState>,
    started: Instant,
}

impl Drop for Finished {
    fn drop(&mut self) {
        if !self.cancel.finish() {
            self.state.metrics.abandoned.dec();
            tracing::warn!(
                target: "kubeharden::webhook",
                duration_ms = self.started.elapsed().as_millis() as u64,
                "an abandoned evaluation has ended (past its deadline, or its request was dropped)"
            );
        }
    }
}

/// Gives up on an evaluation when dropped armed: at the deadline, or when the request's future is
/// dropped (the client went away, the grace period of a shutdown ended).
struct Abandon {
    cancel: Cancel,
    state: Arc<AppState>,
    armed: bool,
}

impl Abandon {
    /// Cancels the evaluation: `true` when it was still running (now abandoned, counted),
    /// `false` when it had just finished.
    fn abandon(&mut self) -> bool {
        self.armed = false;
        // Counted before the cancellation, so that the thread's decrement comes after.
        self.state.metrics.abandoned.inc();
        if self.cancel.cancel() {
            true
        } else {
            self.state.metrics.abandoned.dec();
            false
        }
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if self.armed {
            self.abandon();
        }
    }
}

/// Largest AdmissionReview body evaluated on the connection's thread (with the built-in rules
/// alone and a free slot): 32 KiB. The time is about linear in the body: here a 3.6 KiB review of
/// a Deployment takes 0.23 ms, a 51 KiB one with twelve containers 2.8 ms (`loadgen inproc`), so
/// a connection's thread is held at most about 2 ms, far below any `eval_timeout`.
pub const INLINE_MAX_BYTES: usize = 32 * 1024;

/// Runs `f` holding one of the evaluation slots: `inline` (a small evaluation of bounded time)
/// and a slot free at once, on this thread, to its end; otherwise on the blocking pool within
/// `eval_timeout` (the wait for a slot included). `None` when the deadline passed first: `f`'s
/// [`Cancel`] is cancelled, and its thread keeps its slot until it ends.
async fn run_with_deadline<T: Send + 'static>(
    state: &Arc<AppState>,
    inline: bool,
    f: impl FnOnce(&Cancel) -> Result<T, Failure> + Send + 'static,
) -> Option<Result<T, Failure>> {
    if inline && let Ok(permit) = state.blocking.clone().try_acquire_owned() {
        let cancel = Cancel::new();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&cancel)));
        cancel.finish();
        drop(permit);
        return Some(out.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "evaluation",
                format!("evaluation failed: {what}"),
            ))
        }));
    }
    let deadline = tokio::time::Instant::now() + state.eval_timeout;
    let permit =
        match tokio::time::timeout_at(deadline, state.blocking.clone().acquire_owned()).await {
            Err(_) => {
                state.metrics.eval_timeouts.inc();
                return None;
            }
            Ok(Err(_)) => {
                return Some(Err(fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "shutting down",
                )));
            }
            Ok(Ok(p)) => p,
        };
    let cancel = Cancel::new();
    let finished = Finished {
        cancel: cancel.clone(),
        state: state.clone(),
        started: Instant::now(),
    };
    let mut task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let finished = finished;
        f(&finished.cancel)
    });
    let mut guard = Abandon {
        cancel,
        state: state.clone(),
        armed: true,
    };
    let joined = match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(joined) => {
            guard.armed = false;
            joined
        }
        Err(_) => {
            if guard.abandon() {
                state.metrics.eval_timeouts.inc();
                return None;
            }
            // It finished just at the deadline: take its answer.
            task.await
        }
    };
    Some(joined.unwrap_or_else(|e| {
        Err(fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "evaluation",
            format!("evaluation failed: {e}"),
        ))
    }))
}

/// What one `/mutate` request produced.
struct Mutated {
    body: Vec<u8>,
    uid: String,
    operation: String,
    kind: String,
    namespace: String,
    name: String,
    dry_run: bool,
    mutation: crate::mutate::Mutation,
}

fn process_mutate(state: &AppState, body: &[u8], cancel: &Cancel) -> Result<Mutated, Failure> {
    let (api_version, request) = parse(body)?;
    if cancel.is_cancelled() {
        return Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "abandoned at the deadline",
        ));
    }
    let mutation =
        crate::mutate::mutate(&state.reviewer, &request, &state.tmp_dir).map_err(|e| {
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "evaluation",
                format!("kubeharden could not fix the object: {e}"),
            )
        })?;
    let patch = mutation.patch_base64();
    let out = ReviewOut {
        api_version,
        kind: "AdmissionReview",
        response: crate::admission::Response {
            uid: request.uid.clone(),
            allowed: true,
            patch_type: patch.as_ref().map(|_| "JSONPatch"),
            patch,
            warnings: mutation
                .fixed
                .iter()
                .map(|w| escape_controls(w, false).into_owned())
                .collect(),
            ..Default::default()
        },
    };
    Ok(Mutated {
        body: encode(&out)?,
        uid: request.uid,
        operation: request.operation,
        kind: request.kind.kind,
        namespace: request.namespace,
        name: request.name,
        dry_run: request.dry_run == Some(true),
        mutation,
    })
}

async fn mutate(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let start = Instant::now();
    state.metrics.in_flight.inc();
    let result = async {
        content_type_ok(&req)?;
        let body = read_body(&state, req).await?;
        let st = state.clone();
        run_with_deadline(&state, false, move |cancel| {
            process_mutate(&st, &body, cancel)
        })
        .await
        .unwrap_or_else(|| {
            Err(fail(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the fixes were not planned within {:?} (--eval-timeout)",
                    state.eval_timeout
                ),
            ))
        })
    }
    .await;
    state.metrics.in_flight.dec();
    match result {
        Ok(m) => {
            let decision = match &m.mutation.outcome {
                Outcome::Exempt(_) => "exempt",
                Outcome::Skipped(_) => "skipped",
                Outcome::TimedOut => "timeout",
                Outcome::Evaluated if m.mutation.patch.is_empty() => "unchanged",
                Outcome::Evaluated => "mutated",
            };
            state
                .metrics
                .reviews
                .get_or_create(&ReviewLabels {
                    decision,
                    operation: m.operation.clone(),
                    kind: m.kind.clone(),
                    dry_run: m.dry_run,
                })
                .inc();
            for rule in &m.mutation.rules {
                state
                    .metrics
                    .findings
                    .get_or_create(&FindingLabels {
                        rule,
                        mode: "fixed",
                    })
                    .inc();
            }
            if !m.mutation.patch.is_empty() {
                tracing::info!(
                    target: "kubeharden::mutate",
                    uid = %m.uid,
                    operation = %m.operation,
                    kind = %m.kind,
                    namespace = %m.namespace,
                    name = %m.name,
                    dry_run = m.dry_run,
                    fixed = %m.mutation.rules.join(","),
                    operations = m.mutation.patch.len(),
                    duration_us = start.elapsed().as_micros() as u64,
                    "mutate"
                );
            }
            let mut response = Response::new(Body::from(m.body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(f) => {
            state.metrics.error(f.reason);
            tracing::warn!(
                target: "kubeharden::webhook",
                status = f.code.as_u16(),
                reason = f.reason,
                error = %f.message,
                "request rejected"
            );
            text(f.code, f.message)
        }
    }
}

/// Metrics and the log line of one review.
fn record(state: &AppState, r: &Reviewed, start: Instant) {
    let d = &r.decision;
    let decision = match &d.outcome {
        Outcome::Exempt(_) => "exempt",
        Outcome::Skipped(_) => "skipped",
        Outcome::TimedOut => "timeout",
        Outcome::Evaluated if d.allowed() => "allowed",
        Outcome::Evaluated => "denied",
    };
    state
        .metrics
        .reviews
        .get_or_create(&ReviewLabels {
            decision,
            operation: r.operation.clone(),
            kind: r.kind.clone(),
            dry_run: r.dry_run,
        })
        .inc();
    for j in &d.judged {
        let mode = if j.pre_existing {
            "ratchet"
        } else {
            j.mode.as_str()
        };
        state
            .metrics
            .findings
            .get_or_create(&FindingLabels {
                rule: j.finding.rule,
                mode,
            })
            .inc();
    }
    for e in &d.exemptions {
        state
            .metrics
            .exemptions
            .get_or_create(&ExemptionLabels {
                rule: e.rule,
                source: e.source,
            })
            .inc();
        tracing::info!(
            target: "kubeharden::exemption",
            uid = %r.uid,
            operation = %r.operation,
            kind = %r.kind,
            namespace = %r.namespace,
            name = %r.name,
            user = %r.user,
            dry_run = r.dry_run,
            rule = e.rule,
            source = e.source,
            by = %e.by,
            reason = %e.reason,
            expires = e.expires.as_deref().unwrap_or(""),
            "exemption used"
        );
    }
    for u in &d.unevaluable {
        state
            .metrics
            .policy_unevaluable
            .get_or_create(&UnevaluableLabels {
                policy: u.rule,
                reason: u.reason,
            })
            .inc();
        tracing::warn!(
            target: "kubeharden::policy",
            uid = %r.uid,
            operation = %r.operation,
            kind = %r.kind,
            namespace = %r.namespace,
            name = %r.name,
            policy = u.rule,
            reason = u.reason,
            failure_policy = if u.fail_closed { "Fail" } else { "Ignore" },
            detail = %crate::review::clean(&u.detail),
            "policy not evaluated on this request; it followed its failurePolicy (Fail: denied, Ignore: admitted without it)"
        );
    }
    let exempted = || {
        d.exemptions
            .iter()
            .map(|e| format!("{}:{}", e.rule, e.source))
            .collect::<Vec<_>>()
            .join(",")
    };
    let micros = start.elapsed().as_micros() as u64;
    match &d.outcome {
        Outcome::TimedOut => tracing::warn!(
            target: "kubeharden::review",
            uid = %r.uid,
            operation = %r.operation,
            kind = %r.kind,
            namespace = %r.namespace,
            name = %r.name,
            user = %r.user,
            dry_run = r.dry_run,
            decision,
            duration_us = micros,
            "review: evaluation did not finish within --eval-timeout; denied"
        ),
        Outcome::Evaluated if !d.judged.is_empty() || !d.exemptions.is_empty() => {
            let ratcheted: Vec<&str> = d
                .judged
                .iter()
                .filter(|j| j.pre_existing)
                .map(|j| j.finding.rule)
                .collect();
            tracing::info!(
                target: "kubeharden::review",
                uid = %r.uid,
                operation = %r.operation,
                kind = %r.kind,
                namespace = %r.namespace,
                name = %r.name,
                user = %r.user,
                dry_run = r.dry_run,
                decision,
                deny = %d.rules(Mode::Deny).join(","),
                warn = %d.rules(Mode::Warn).join(","),
                audit = %d.rules(Mode::Audit).join(","),
                ratcheted = %ratcheted.join(","),
                exempted = %exempted(),
                suppressed = d.suppressed,
                duration_us = micros,
                "review"
            );
            for j in &d.judged {
                tracing::debug!(
                    target: "kubeharden::finding",
                    uid = %r.uid,
                    rule = j.finding.rule,
                    mode = j.mode.as_str(),
                    severity = j.finding.severity.as_str(),
                    pointer = %j.finding.location.pointer,
                    message = %crate::review::clean(&j.finding.message),
                    "finding"
                );
            }
        }
        Outcome::Exempt(why) => tracing::info!(
            target: "kubeharden::review",
            uid = %r.uid,
            operation = %r.operation,
            kind = %r.kind,
            namespace = %r.namespace,
            name = %r.name,
            user = %r.user,
            dry_run = r.dry_run,
            decision,
            exempt = %why,
            duration_us = micros,
            "review"
        ),
        _ => tracing::debug!(
            target: "kubeharden::review",
            uid = %r.uid,
            operation = %r.operation,
            kind = %r.kind,
            namespace = %r.namespace,
            name = %r.name,
            dry_run = r.dry_run,
            decision,
            suppressed = d.suppressed,
            duration_us = micros,
            "review"
        ),
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener> {
    let l = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Starts the servers (and the certificate reloader) and returns once they listen.
pub async fn start(opts: ServeOptions, reviewer: Reviewer) -> Result<Running> {
    let cert = tokio::fs::read(&opts.tls_cert)
        .await
        .with_context(|| format!("cannot read {}", opts.tls_cert.display()))?;
    let key = tokio::fs::read(&opts.tls_key)
        .await
        .with_context(|| format!("cannot read {}", opts.tls_key.display()))?;
    let tls = RustlsConfig::from_config(Arc::new(tls_config(&cert, &key).with_context(|| {
        format!(
            "TLS certificate {} and key {}",
            opts.tls_cert.display(),
            opts.tls_key.display()
        )
    })?));
    let state = Arc::new(AppState::new(reviewer, &opts));
    state.ready.store(false, Ordering::Release);

    let listener = bind(opts.addr)?;
    let addr = listener.local_addr()?;
    let handle = Handle::new();
    // TCP_NODELAY: without it a response written in two TLS records waits for the client's
    // delayed ACK (40 ms on Linux) behind Nagle's algorithm.
    let acceptor = RustlsAcceptor::new(tls.clone())
        .handshake_timeout(opts.handshake_timeout)
        .acceptor(NoDelayAcceptor::new());
    let mut server = axum_server::from_tcp(listener)?
        .acceptor(acceptor)
        .handle(handle.clone())
        .first_request_timeout(opts.handshake_timeout);
    server
        .http_builder()
        .http1()
        .keep_alive(true)
        .header_read_timeout(opts.handshake_timeout);
    server
        .http_builder()
        .http2()
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    let app = router(state.clone(), true);
    let mut servers = vec![tokio::spawn(server.serve(app.into_make_service()))];

    let mut metrics_addr = None;
    let mut metrics_handle = None;
    if let Some(maddr) = opts.metrics_addr {
        let listener = bind(maddr)?;
        metrics_addr = Some(listener.local_addr()?);
        let h = Handle::new();
        let mut server = axum_server::from_tcp(listener)?
            .acceptor(NoDelayAcceptor::new())
            .handle(h.clone())
            .first_request_timeout(opts.handshake_timeout);
        server
            .http_builder()
            .http1()
            .header_read_timeout(opts.handshake_timeout);
        let app = router(state.clone(), false);
        servers.push(tokio::spawn(server.serve(app.into_make_service())));
        metrics_handle = Some(h);
    }

    let reloader = tokio::spawn(reload_loop(
        tls,
        opts.tls_cert.clone(),
        opts.tls_key.clone(),
        opts.cert_reload_interval,
        (cert, key),
        state.clone(),
    ));
    state.ready.store(true, Ordering::Release);
    let today = kubeharden_engine::suppress::today_utc();
    for ex in &state.reviewer.policy.config.exemptions {
        if ex.is_expired(&today) {
            tracing::warn!(
                target: "kubeharden::webhook",
                rule = %ex.rule,
                name = %ex.name,
                expires = ex.expires.as_deref().unwrap_or(""),
                "an exemption of .kubeharden.yaml has expired and no longer applies"
            );
        }
    }
    for ex in &state.reviewer.policy.rule_exemptions {
        if ex.is_expired(&today) {
            tracing::warn!(
                target: "kubeharden::webhook",
                exemption = %ex.key(),
                rules = %ex.rules.join(","),
                expires = ex.expires.as_deref().unwrap_or(""),
                "a rule exemption of the webhook policy has expired and no longer applies"
            );
        }
    }
    log_policy_needs(&state.reviewer);
    tracing::info!(
        target: "kubeharden::webhook",
        addr = %addr,
        metrics_addr = ?metrics_addr,
        rules = state.reviewer.policy.rules.len(),
        rule_ids = %state
            .reviewer
            .policy
            .rules
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
            .join(","),
        policy = %state.reviewer.policy.origin,
        object_annotations = state.reviewer.policy.object_annotations,
        rule_exemptions = state.reviewer.policy.rule_exemptions.len(),
        eval_timeout_ms = opts.eval_timeout.as_millis() as u64,
        "listening"
    );
    Ok(Running {
        addr,
        metrics_addr,
        state,
        handle,
        metrics_handle,
        servers,
        reloader,
        shutdown_delay: opts.shutdown_delay,
        shutdown_grace: opts.shutdown_grace,
    })
}

/// A start-up line per user's policy that needs what an AdmissionReview does not carry (its
/// namespace's labels, parameter objects), saying how it is obtained, or that it is not and the
/// policy follows its failurePolicy on every request it matches.
pub fn log_policy_needs(reviewer: &crate::Reviewer) {
    let source = reviewer.namespaces.as_ref().map(|n| n.describe());
    for need in reviewer.admission_needs() {
        let failure_policy = if need.fail_closed { "Fail" } else { "Ignore" };
        if need.namespace {
            match &source {
                Some(how) => tracing::info!(
                    target: "kubeharden::policy",
                    policy = need.rule,
                    needs = "namespace labels",
                    source = %how,
                    failure_policy,
                    "policy reads the labels of the request's namespace, which the AdmissionReview does not carry; they are looked up"
                ),
                None => tracing::warn!(
                    target: "kubeharden::policy",
                    policy = need.rule,
                    needs = "namespace labels",
                    source = "none",
                    failure_policy,
                    "policy reads the labels of the request's namespace, and this webhook reads no Namespaces: it is not evaluated on namespaced objects and follows its failurePolicy"
                ),
            }
        }
        if let Some((kind, given)) = &need.params {
            if *given == 0 {
                tracing::warn!(
                    target: "kubeharden::policy",
                    policy = need.rule,
                    needs = "params",
                    param_kind = %kind,
                    given,
                    failure_policy,
                    "policy has a paramKind and no parameter object of that kind was given with --policy (the webhook does not read them from the cluster): it is not evaluated and follows its failurePolicy"
                );
            } else {
                tracing::info!(
                    target: "kubeharden::policy",
                    policy = need.rule,
                    needs = "params",
                    param_kind = %kind,
                    given,
                    source = "--policy files",
                    failure_policy,
                    "policy reads parameter objects: those given with --policy (not the cluster's)"
                );
            }
        }
    }
}

/// Re-reads the certificate and key every `interval`; swaps the TLS config when they change.
async fn reload_loop(
    tls: RustlsConfig,
    cert_path: PathBuf,
    key_path: PathBuf,
    interval: Duration,
    mut current: (Vec<u8>, Vec<u8>),
    state: Arc<AppState>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let (Ok(cert), Ok(key)) = (
            tokio::fs::read(&cert_path).await,
            tokio::fs::read(&key_path).await,
        ) else {
            // Mid-swap, or gone: try again at the next tick, keep serving the current pair.
            continue;
        };
        if (&cert, &key) == (&current.0, &current.1) {
            continue;
        }
        match tls_config(&cert, &key) {
            Ok(config) => {
                tls.reload_from_config(Arc::new(config));
                state
                    .metrics
                    .tls_reloads
                    .get_or_create(&ReloadLabels { result: "ok" })
                    .inc();
                tracing::info!(target: "kubeharden::webhook", cert = %cert_path.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                state
                    .metrics
                    .tls_reloads
                    .get_or_create(&ReloadLabels { result: "error" })
                    .inc();
                tracing::error!(target: "kubeharden::webhook", cert = %cert_path.display(), error = format!("{e:#}"), "TLS certificate not reloaded; the previous one stays in use");
            }
        }
        current = (cert, key);
    }
}

impl Running {
    /// Graceful shutdown: not ready, wait `shutdown_delay`, stop accepting, finish in-flight
    /// requests (at most `shutdown_grace`), return.
    pub async fn shutdown(self) -> Result<()> {
        self.state.ready.store(false, Ordering::Release);
        tracing::info!(
            target: "kubeharden::webhook",
            delay_ms = self.shutdown_delay.as_millis() as u64,
            "shutting down: readiness off"
        );
        tokio::time::sleep(self.shutdown_delay).await;
        self.handle.graceful_shutdown(Some(self.shutdown_grace));
        if let Some(h) = &self.metrics_handle {
            h.graceful_shutdown(Some(self.shutdown_grace));
        }
        self.reloader.abort();
        for s in self.servers {
            s.await??;
        }
        tracing::info!(target: "kubeharden::webhook", "stopped");
        Ok(())
    }

    /// Open connections on the HTTPS listener.
    pub fn connections(&self) -> usize {
        self.handle.connection_count()
    }
}

/// Runs until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn serve(opts: ServeOptions, reviewer: Reviewer) -> Result<()> {
    let running = start(opts, reviewer).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => tracing::info!(target: "kubeharden::webhook", "SIGTERM"),
        _ = tokio::signal::ctrl_c() => tracing::info!(target: "kubeharden::webhook", "SIGINT"),
    }
    running.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(slots: usize) -> Arc<AppState> {
        let mut opts = ServeOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            PathBuf::from("tls.crt"),
            PathBuf::from("tls.key"),
        );
        opts.eval_concurrency = Some(slots);
        Arc::new(AppState::new(
            Reviewer::new(crate::Policy::default()),
            &opts,
        ))
    }

    /// The thread an evaluation ran on.
    async fn thread_of(st: Arc<AppState>, inline: bool) -> std::thread::ThreadId {
        run_with_deadline(&st, inline, |_| Ok(std::thread::current().id()))
            .await
            .unwrap()
            .ok()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_builtin_evaluation_runs_on_the_connections_thread_when_a_slot_is_free() {
        let st = state(1);
        assert!(st.reviewer.is_builtin_only());
        let here = std::thread::current().id();
        assert_eq!(thread_of(st.clone(), true).await, here);
        assert_ne!(thread_of(st.clone(), false).await, here);
        // Every slot taken: the evaluation waits for one and runs on the blocking pool.
        let held = st.blocking.clone().try_acquire_owned().unwrap();
        let waiting = tokio::spawn(thread_of(st.clone(), true));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(held);
        assert_ne!(waiting.await.unwrap(), here);
        // Its slot came back.
        assert_eq!(st.blocking.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_on_the_connections_thread_is_a_500_and_frees_its_slot() {
        let st = state(1);
        let out: Result<(), Failure> = run_with_deadline(&st, true, |_| panic!("boom in a rule"))
            .await
            .unwrap();
        let f = out.unwrap_err();
        assert_eq!(f.code, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(f.message, "evaluation failed: boom in a rule");
        assert_eq!(st.blocking.available_permits(), 1);
    }
}
