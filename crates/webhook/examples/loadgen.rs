//! Closed-loop load generator for `kubeharden serve` (bench/webhook.sh runs it).
//!
//! ```text
//! cargo run --release -p kubeharden-webhook --example loadgen -- certs DIR
//!     writes DIR/ca.crt, DIR/tls.crt, DIR/tls.key (a CA and a server certificate for
//!     localhost and 127.0.0.1, made with rcgen)
//! cargo run --release -p kubeharden-webhook --example loadgen -- run --ca DIR/ca.crt [options]
//!     --addr 127.0.0.1:8443   the server (HTTPS, verified against --ca)
//!     --connections 8         concurrent keep-alive HTTP/1.1 connections, each with one
//!                             request in flight (closed loop: the next is sent when the
//!                             answer has been read)
//!     --requests 1000000      measured requests (after the warm-up), or --duration 60s
//!     --warmup 20000          requests sent first and not measured
//!     --pid PID               the server's process: RSS (VmRSS) and CPU sampled from /proc
//!     --threads 1             generator threads (a current-thread runtime when 1)
//!     --min-rps 5000 --max-p99-ms 5 --max-rss-growth-pct 10
//!                             targets: the verdict line, and exit status 1 when one is missed
//! cargo run --release -p kubeharden-webhook --example loadgen -- inproc [ROUNDS [FILE]]
//!     the same mix (or the AdmissionReview in FILE) reviewed in this process, ROUNDS times
//!     (default 2000), one thread, no HTTP and no TLS (the server's `process`, through
//!     `server::validate_body`): the evaluation's own cost per review, steady enough to
//!     compare builds under `valgrind --tool=callgrind` (instructions per review)
//! ```
//!
//! The requests are a mix of AdmissionReviews as the API server sends them (the bodies of
//! `tests/data/`, with managedFields and the last-applied annotation, plus Pods made from their
//! pod templates): allowed, warned, denied, an UPDATE, a dry run. Each request gets its own uid;
//! every answer is checked (HTTP 200, the request's uid, the same decision as the first answer
//! for that body) and a mismatch counts as an error. Latency is measured from just before the
//! request is written to the end of the answer's body, per request (exact percentiles: every
//! sample is kept, 8 bytes each).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const UID_PLACEHOLDER: &str = "00000000-0000-4000-8000-000000000000";

struct Opts {
    addr: SocketAddr,
    ca: PathBuf,
    connections: usize,
    requests: Option<u64>,
    duration: Option<Duration>,
    warmup: u64,
    pid: Option<u32>,
    threads: usize,
    min_rps: Option<f64>,
    max_p99_ms: Option<f64>,
    max_rss_growth_pct: Option<f64>,
    sample_every: Duration,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: loadgen certs DIR\n       loadgen run --ca FILE [--addr 127.0.0.1:8443] \
         [--connections 8] [--requests 1000000 | --duration 60s] [--warmup 20000] [--pid PID] \
         [--threads 1] [--min-rps N] [--max-p99-ms N] [--max-rss-growth-pct N] \
         [--sample-every 5s]\n       loadgen inproc [ROUNDS [FILE]]"
    );
    ExitCode::from(2)
}

fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    if let Some(m) = s.strip_suffix('m') {
        return m.parse::<u64>().ok().map(|m| Duration::from_secs(m * 60));
    }
    s.strip_suffix('s')
        .unwrap_or(s)
        .parse::<f64>()
        .ok()
        .map(Duration::from_secs_f64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("certs") if args.len() == 2 => match write_certs(Path::new(&args[1])) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loadgen: {e}");
                ExitCode::FAILURE
            }
        },
        Some("run") => {
            let mut o = Opts {
                addr: "127.0.0.1:8443".parse().unwrap(),
                ca: PathBuf::new(),
                connections: 8,
                requests: None,
                duration: None,
                warmup: 20_000,
                pid: None,
                threads: 1,
                min_rps: None,
                max_p99_ms: None,
                max_rss_growth_pct: None,
                sample_every: Duration::from_secs(5),
            };
            let mut it = args[1..].iter();
            while let Some(flag) = it.next() {
                let Some(v) = it.next() else {
                    return usage();
                };
                let ok = match flag.as_str() {
                    "--addr" => v.parse().map(|a| o.addr = a).is_ok(),
                    "--ca" => {
                        o.ca = PathBuf::from(v);
                        true
                    }
                    "--connections" => v.parse().map(|n: usize| o.connections = n.max(1)).is_ok(),
                    "--requests" => v.parse().map(|n| o.requests = Some(n)).is_ok(),
                    "--duration" => parse_duration(v).map(|d| o.duration = Some(d)).is_some(),
                    "--warmup" => v.parse().map(|n| o.warmup = n).is_ok(),
                    "--pid" => v.parse().map(|p| o.pid = Some(p)).is_ok(),
                    "--threads" => v.parse().map(|n: usize| o.threads = n.max(1)).is_ok(),
                    "--min-rps" => v.parse().map(|n| o.min_rps = Some(n)).is_ok(),
                    "--max-p99-ms" => v.parse().map(|n| o.max_p99_ms = Some(n)).is_ok(),
                    "--max-rss-growth-pct" => {
                        v.parse().map(|n| o.max_rss_growth_pct = Some(n)).is_ok()
                    }
                    "--sample-every" => parse_duration(v).map(|d| o.sample_every = d).is_some(),
                    _ => false,
                };
                if !ok {
                    eprintln!("loadgen: bad option {flag} {v}");
                    return usage();
                }
            }
            if o.ca.as_os_str().is_empty() {
                return usage();
            }
            if o.requests.is_none() && o.duration.is_none() {
                o.requests = Some(1_000_000);
            }
            let rt = if o.threads == 1 {
                tokio::runtime::Builder::new_current_thread()
            } else {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(o.threads);
                b
            }
            .enable_all()
            .build()
            .expect("tokio runtime");
            match rt.block_on(run(o)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Some("inproc") if args.len() <= 3 => {
            let Some(rounds) = args.get(1).map_or(Some(2000), |v| v.parse::<u64>().ok()) else {
                return usage();
            };
            inproc(rounds, args.get(2).map(Path::new));
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

/// The mix (or one review read from `file`) reviewed in this process `rounds` times; prints
/// reviews and time per review.
fn inproc(rounds: u64, file: Option<&Path>) {
    let reviewer = kubeharden_webhook::Reviewer::new(kubeharden_webhook::Policy::default());
    let mut bodies = Vec::new();
    if let Some(file) = file {
        bodies.push(std::fs::read(file).expect("the review file"));
    }
    for (t, weight) in templates().into_iter().filter(|_| file.is_none()) {
        let mut body = t.body.clone();
        body[t.uid_at..t.uid_at + 36].copy_from_slice(UID_PLACEHOLDER.as_bytes());
        for _ in 0..weight {
            bodies.push(body.clone());
        }
    }
    let started = Instant::now();
    let mut n = 0u64;
    for _ in 0..rounds {
        for body in &bodies {
            let out = kubeharden_webhook::server::validate_body(&reviewer, body)
                .unwrap_or_else(|(code, msg)| panic!("{code}: {msg}"));
            std::hint::black_box(out);
            n += 1;
        }
    }
    let took = started.elapsed();
    println!(
        "{n} reviews in {:.3} s: {:.1} us per review (one thread, no HTTP, no TLS)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64
    );
}

/// A CA and a server certificate it signs, for `localhost` and 127.0.0.1.
fn write_certs(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    std::fs::create_dir_all(dir)?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "kubeharden bench CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let mut srv = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    srv.distinguished_name
        .push(rcgen::DnType::CommonName, "kubeharden-webhook bench");
    srv.use_authority_key_identifier_extension = true;
    srv.extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let key = KeyPair::generate()?;
    let cert = srv.signed_by(&key, &issuer)?;
    std::fs::write(dir.join("ca.crt"), ca_cert.pem())?;
    std::fs::write(dir.join("tls.crt"), cert.pem())?;
    std::fs::write(dir.join("tls.key"), key.serialize_pem())?;
    Ok(())
}

/// One kind of request of the mix: its body with the uid replaced by a placeholder.
struct Template {
    name: String,
    body: Vec<u8>,
    /// Where the placeholder uid is in `body` (overwritten per request).
    uid_at: usize,
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("fixture JSON")
}

/// A Pod as the ReplicaSet controller creates it from the Deployment's pod template.
fn pod_review(deployment: &str) -> Value {
    let mut review = fixture(deployment);
    let req = &mut review["request"];
    let dep = req["object"].clone();
    let ns = req["namespace"].clone();
    let tmpl = &dep["spec"]["template"];
    let name = format!(
        "{}-7c9f8b6d4-x2k4q",
        dep["metadata"]["name"].as_str().unwrap()
    );
    let mut labels = tmpl["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!("7c9f8b6d4");
    let mut spec = tmpl["spec"].clone();
    spec["enableServiceLinks"] = json!(true);
    spec["preemptionPolicy"] = json!("PreemptLowerPriority");
    spec["priority"] = json!(0);
    spec["serviceAccountName"] = json!("default");
    spec["serviceAccount"] = json!("default");
    let pod = json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": format!("{}-7c9f8b6d4-", dep["metadata"]["name"].as_str().unwrap()),
            "namespace": ns,
            "uid": "9b1f3c55-2c1e-4d7a-9a3e-5d2f1b8e7c10",
            "creationTimestamp": "2026-11-27T10:00:00Z",
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{}-7c9f8b6d4", dep["metadata"]["name"].as_str().unwrap()),
                "uid": "4e0f9f0a-1b7d-4f0e-8d55-3c7b7f2a9e01", "controller": true, "blockOwnerDeletion": true
            }],
            "managedFields": [{
                "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                "time": "2026-11-27T10:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}}, "f:ownerReferences": {".": {}}}, "f:spec": {"f:containers": {}}}
            }]
        },
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "Burstable"}
    });
    req["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    req["requestKind"] = req["kind"].clone();
    req["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
    req["requestResource"] = req["resource"].clone();
    req["name"] = json!(name);
    req["object"] = pod;
    req["oldObject"] = Value::Null;
    req["userInfo"] = json!({
        "username": "system:serviceaccount:kube-system:replicaset-controller",
        "uid": "1e6b4a4e-7d61-4c1f-a3f8-0d3b7c8f5a21",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]
    });
    review
}

/// The mix, with weights (how many of each in a round).
fn templates() -> Vec<(Template, u32)> {
    let mix: Vec<(&str, Value, u32)> = vec![
        (
            "deployment-typical (warns)",
            fixture("deployment-typical.json"),
            3,
        ),
        (
            "deployment-hardened (allowed)",
            fixture("deployment-hardened.json"),
            2,
        ),
        (
            "deployment-privileged (denied)",
            fixture("deployment-privileged.json"),
            1,
        ),
        (
            "deployment-privileged-update (UPDATE)",
            fixture("deployment-privileged-update.json"),
            1,
        ),
        (
            "deployment-privileged-dryrun (dry run)",
            fixture("deployment-privileged-dryrun.json"),
            1,
        ),
        (
            "pod from deployment-typical (warns)",
            pod_review("deployment-typical.json"),
            3,
        ),
        (
            "pod from deployment-hardened (allowed)",
            pod_review("deployment-hardened.json"),
            2,
        ),
        (
            "pod from deployment-privileged (denied)",
            pod_review("deployment-privileged.json"),
            1,
        ),
    ];
    mix.into_iter()
        .map(|(name, mut v, weight)| {
            v["request"]["uid"] = json!(UID_PLACEHOLDER);
            let body = serde_json::to_vec(&v).unwrap();
            let needle = format!("\"uid\":\"{UID_PLACEHOLDER}\"");
            let uid_at = find(&body, needle.as_bytes()).expect("uid in body") + 7;
            (
                Template {
                    name: name.to_string(),
                    body,
                    uid_at,
                },
                weight,
            )
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The body for request number `n` of template `t`: its own uid.
fn body_for(t: &Template, n: u64) -> (Bytes, [u8; 36]) {
    let mut uid = *b"00000000-0000-4000-8000-000000000000";
    let hex = format!("{n:012x}");
    uid[24..].copy_from_slice(hex.as_bytes());
    let mut body = t.body.clone();
    body[t.uid_at..t.uid_at + 36].copy_from_slice(&uid);
    (Bytes::from(body), uid)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Decision {
    Allowed,
    Denied,
}

/// The answer's decision, if it is an AdmissionReview answer for `uid`.
fn check(body: &[u8], uid: &[u8; 36]) -> Option<Decision> {
    let mut needle = Vec::with_capacity(44);
    needle.extend_from_slice(b"\"uid\":\"");
    needle.extend_from_slice(uid);
    find(body, &needle)?;
    if find(body, b"\"allowed\":true").is_some() {
        Some(Decision::Allowed)
    } else if find(body, b"\"allowed\":false").is_some() {
        Some(Decision::Denied)
    } else {
        None
    }
}

fn tls_config(ca: &Path) -> Result<Arc<rustls::ClientConfig>, Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca)? {
        roots.add(c?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(
    addr: SocketAddr,
    tls: &TlsConnector,
) -> Result<Sender, Box<dyn std::error::Error + Send + Sync>> {
    let tcp = TcpStream::connect(addr).await?;
    // As the API server's Go client does.
    tcp.set_nodelay(true)?;
    let stream = tls
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Shared counters.
struct Shared {
    /// Requests handed out (warm-up included); a worker takes the next number.
    next: AtomicU64,
    /// Requests answered (warm-up included).
    done: AtomicU64,
    errors: AtomicU64,
    stop: AtomicBool,
    warmup: u64,
    limit: u64,
    /// Expected decision per template (from its first answer): 0 unknown, 1 allowed, 2 denied.
    expected: Vec<AtomicU64>,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Shared {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut f = self.first_error.lock().unwrap();
        if f.is_none() {
            *f = Some(what);
        }
    }
}

/// One connection's loop: latencies (ns) of the measured requests it sent.
async fn worker(
    addr: SocketAddr,
    tls: TlsConnector,
    shared: Arc<Shared>,
    schedule: Arc<Vec<usize>>,
    templates: Arc<Vec<Template>>,
) -> Vec<u64> {
    let mut lat = Vec::with_capacity((shared.limit / 8).min(1 << 22) as usize);
    let mut sender: Option<Sender> = None;
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= shared.limit {
            break;
        }
        let ti = schedule[(n % schedule.len() as u64) as usize];
        let t = &templates[ti];
        let (body, uid) = body_for(t, n);
        let req = Request::builder()
            .method("POST")
            .uri("/validate")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(body))
            .unwrap();
        let start = Instant::now();
        if sender.is_none() {
            match connect(addr, &tls).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    shared.error(format!("connect: {e}"));
                    shared.done.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let s = sender.as_mut().unwrap();
        let result = async {
            s.ready().await?;
            let resp = s.send_request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        }
        .await;
        let elapsed = start.elapsed();
        shared.done.fetch_add(1, Ordering::Relaxed);
        match result {
            Err(e) => {
                shared.error(format!("request: {e}"));
                sender = None;
            }
            Ok((status, body)) if status != 200 => shared.error(format!(
                "HTTP {status} for {}: {}",
                t.name,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )),
            Ok((_, body)) => match check(&body, &uid) {
                None => shared.error(format!(
                    "not an answer for uid {} ({}): {}",
                    String::from_utf8_lossy(&uid),
                    t.name,
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                )),
                Some(d) => {
                    let code = if d == Decision::Allowed { 1 } else { 2 };
                    let exp = &shared.expected[ti];
                    match exp.compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed) {
                        Ok(_) => {}
                        Err(prev) if prev == code => {}
                        Err(_) => shared.error(format!("{}: decision changed to {d:?}", t.name)),
                    }
                    if n >= shared.warmup {
                        lat.push(elapsed.as_nanos() as u64);
                    }
                }
            },
        }
    }
    lat
}

/// VmRSS of a process, in kB.
fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// CPU time (user + system) of a process, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1] as f64 / 1e6
}

async fn run(o: Opts) -> Result<bool, Box<dyn std::error::Error>> {
    let tls = TlsConnector::from(tls_config(&o.ca)?);
    let mix = templates();
    let mut schedule = Vec::new();
    for (i, (_, w)) in mix.iter().enumerate() {
        schedule.extend(std::iter::repeat_n(i, *w as usize));
    }
    // Interleave kinds rather than sending runs of one.
    let mut interleaved = Vec::with_capacity(schedule.len());
    let mut left: Vec<u32> = mix.iter().map(|(_, w)| *w).collect();
    while interleaved.len() < schedule.len() {
        for (i, l) in left.iter_mut().enumerate() {
            if *l > 0 {
                *l -= 1;
                interleaved.push(i);
            }
        }
    }
    let templates: Vec<Template> = mix.into_iter().map(|(t, _)| t).collect();
    println!(
        "mix ({} bodies, {} per round): {}",
        templates.len(),
        interleaved.len(),
        templates
            .iter()
            .map(|t| format!("{} {} B", t.name, t.body.len()))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let limit = o.warmup + o.requests.unwrap_or(u64::MAX / 2);
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        warmup: o.warmup,
        limit,
        expected: templates.iter().map(|_| AtomicU64::new(0)).collect(),
        first_error: std::sync::Mutex::new(None),
    });
    let schedule = Arc::new(interleaved);
    let templates = Arc::new(templates);
    let rss0 = o.pid.and_then(rss_kb);
    println!(
        "target https://{}/validate, {} connections, {} warm-up requests, then {}; load average {}",
        o.addr,
        o.connections,
        o.warmup,
        match (o.requests, o.duration) {
            (Some(n), _) => format!("{n} requests"),
            (None, Some(d)) => format!("{d:?}"),
            _ => unreachable!(),
        },
        loadavg()
    );
    if let Some(r) = rss0 {
        println!("server RSS before the warm-up: {} kB", r);
    }
    let handles: Vec<_> = (0..o.connections)
        .map(|_| {
            tokio::spawn(worker(
                o.addr,
                tls.clone(),
                shared.clone(),
                schedule.clone(),
                templates.clone(),
            ))
        })
        .collect();

    // Wait for the warm-up, then sample until the end.
    while shared.done.load(Ordering::Relaxed) < o.warmup && handles.iter().any(|h| !h.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = o.pid.map(|p| p.to_string());
    let t0 = Instant::now();
    let done0 = shared.done.load(Ordering::Relaxed);
    let me = std::process::id().to_string();
    let srv_cpu0 = pid.as_deref().and_then(cpu_ticks);
    let gen_cpu0 = cpu_ticks(&me);
    let rss_warm = o.pid.and_then(rss_kb);
    let mut samples: Vec<(f64, u64, f64, Option<u64>, String)> = Vec::new();
    println!(
        "{:>8} {:>10} {:>11} {:>10}  load average",
        "t (s)", "answered", "reviews/s", "RSS (kB)"
    );
    let print_sample = |s: &(f64, u64, f64, Option<u64>, String)| {
        println!(
            "{:>8.1} {:>10} {:>11.0} {:>10}  {}",
            s.0,
            s.1,
            s.2,
            s.3.map_or("-".into(), |r| r.to_string()),
            s.4
        )
    };
    let first = (0.0, 0, 0.0, rss_warm, loadavg());
    print_sample(&first);
    samples.push(first);
    let mut last = (t0, done0);
    loop {
        let tick = tokio::time::sleep(o.sample_every);
        tokio::pin!(tick);
        let mut finished = false;
        loop {
            tokio::select! {
                _ = &mut tick => break,
                _ = tokio::time::sleep(Duration::from_millis(20)) => {
                    if handles.iter().all(|h| h.is_finished()) { finished = true; break; }
                    if let Some(d) = o.duration
                        && t0.elapsed() >= d
                    {
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        let now = Instant::now();
        let done = shared.done.load(Ordering::Relaxed);
        let s = (
            now.duration_since(t0).as_secs_f64(),
            done - done0,
            (done - last.1) as f64 / now.duration_since(last.0).as_secs_f64(),
            o.pid.and_then(rss_kb),
            loadavg(),
        );
        last = (now, done);
        if !finished || s.1 > samples.last().unwrap().1 {
            print_sample(&s);
            samples.push(s);
        }
        if finished {
            break;
        }
    }
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await?);
    }
    // The measured window: from the end of the warm-up to the last answer.
    let wall = t0.elapsed().as_secs_f64();
    let measured = shared.done.load(Ordering::Relaxed) - done0;
    let srv_cpu = pid
        .as_deref()
        .and_then(cpu_ticks)
        .zip(srv_cpu0)
        .map(|(a, b)| (a - b) as f64 / 100.0);
    let gen_cpu = cpu_ticks(&me)
        .zip(gen_cpu0)
        .map(|(a, b)| (a - b) as f64 / 100.0);
    let rss_end = o.pid.and_then(rss_kb);
    lat.sort_unstable();
    let errors = shared.errors.load(Ordering::Relaxed);
    let rps = measured as f64 / wall;
    let p99 = pct(&lat, 99.0);
    let mean = lat.iter().sum::<u64>() as f64 / lat.len().max(1) as f64 / 1e6;
    println!();
    println!(
        "measured:           {measured} answers in {wall:.2} s; {} requests after the warm-up answered as expected; {errors} errors",
        lat.len()
    );
    println!("throughput:         {rps:.0} reviews/s");
    println!(
        "latency (ms):       mean {mean:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  p99.99 {:.3}  max {:.3}",
        pct(&lat, 50.0),
        pct(&lat, 90.0),
        p99,
        pct(&lat, 99.9),
        pct(&lat, 99.99),
        lat.last().copied().unwrap_or(0) as f64 / 1e6
    );
    if let Some(c) = srv_cpu {
        println!(
            "server CPU:         {c:.2} s ({:.0} µs per review, {:.2} cores)",
            c * 1e6 / measured.max(1) as f64,
            c / wall
        );
    }
    if let Some(c) = gen_cpu {
        println!(
            "generator CPU:      {c:.2} s ({:.0} µs per review, {:.2} cores)",
            c * 1e6 / measured.max(1) as f64,
            c / wall
        );
    }
    // Flat: the end against the first sample past 10% of the run (the allocator's pools grow
    // over the first seconds of load, after the warm-up too).
    let base = samples
        .iter()
        .find(|s| s.1 * 10 >= measured)
        .and_then(|s| s.3);
    let rss_growth = match (base, rss_end) {
        (Some(a), Some(b)) => {
            let mid = samples.get(samples.len() / 2).and_then(|s| s.3);
            let growth = (b as f64 - a as f64) * 100.0 / a as f64;
            println!(
                "server RSS (kB):    before warm-up {}, after warm-up {}, at 10% {a}, middle {}, end {b}, max {} ({growth:+.1}% from 10% of the run to the end)",
                rss0.map_or("-".into(), |r| r.to_string()),
                rss_warm.map_or("-".into(), |r| r.to_string()),
                mid.map_or("-".into(), |r| r.to_string()),
                samples.iter().filter_map(|s| s.3).max().unwrap_or(b),
            );
            Some(growth)
        }
        _ => None,
    };
    println!("load average:       {}", loadavg());
    for (t, e) in templates.iter().zip(&shared.expected) {
        let d = match e.load(Ordering::Relaxed) {
            1 => "allowed",
            2 => "denied",
            _ => "no answer",
        };
        println!("  {:<42} {d}", t.name);
    }
    if let Some(e) = shared.first_error.lock().unwrap().as_ref() {
        println!("first error: {e}");
    }
    let mut ok = errors == 0;
    let mut verdict = Vec::new();
    if let Some(min) = o.min_rps {
        let pass = rps >= min;
        ok &= pass;
        verdict.push(format!(
            "throughput {rps:.0}/s {} {min:.0}/s",
            if pass { ">=" } else { "<" }
        ));
    }
    if let Some(max) = o.max_p99_ms {
        let pass = p99 < max;
        ok &= pass;
        verdict.push(format!(
            "p99 {p99:.2} ms {} {max} ms",
            if pass { "<" } else { ">=" }
        ));
    }
    if let (Some(max), Some(g)) = (o.max_rss_growth_pct, rss_growth) {
        let pass = g < max;
        ok &= pass;
        verdict.push(format!(
            "RSS growth {g:+.1}% {} {max}%",
            if pass { "<" } else { ">=" }
        ));
    }
    verdict.push(format!("{errors} errors"));
    println!(
        "verdict:            {} ({})",
        if ok { "PASS" } else { "FAIL" },
        verdict.join(", ")
    );
    Ok(ok)
}
