//! Test support: certificates made with rcgen at test time (no network, no files in the repo), a
//! server on a loopback port, and an HTTPS client that verifies the server against the test CA
//! (rustls with ring, HTTP/1.1 or HTTP/2 by ALPN).

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kubeharden_webhook::{Policy, Reviewer, Running, ServeOptions};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A CA that signs server certificates for `localhost` and 127.0.0.1.
pub struct Ca {
    pub pem: String,
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate and key (PEM) and the certificate's DER.
    pub fn server_cert(&self, cn: &str) -> (String, String, Vec<u8>) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.use_authority_key_identifier_extension = true;
        params
            .extended_key_usages
            .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().to_vec())
    }
}

/// A running server with its certificate files.
pub struct Server {
    pub running: Running,
    pub ca: Ca,
    pub dir: tempfile::TempDir,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cert_der: Vec<u8>,
}

pub fn options(dir: &Path) -> ServeOptions {
    let mut o = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.join("tls.crt"),
        dir.join("tls.key"),
    );
    o.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    o.cert_reload_interval = Duration::from_millis(100);
    o.shutdown_delay = Duration::ZERO;
    o.shutdown_grace = Duration::from_secs(10);
    o
}

pub async fn start_with(policy: Policy, tweak: impl FnOnce(&mut ServeOptions)) -> Server {
    let ca = Ca::new("kubeharden test CA");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, cert_der) = ca.server_cert("kubeharden-webhook 1");
    std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
    std::fs::write(dir.path().join("tls.key"), key).unwrap();
    let mut opts = options(dir.path());
    tweak(&mut opts);
    let running = kubeharden_webhook::start(opts, Reviewer::new(policy))
        .await
        .unwrap();
    Server {
        running,
        cert_path: dir.path().join("tls.crt"),
        key_path: dir.path().join("tls.key"),
        ca,
        dir,
        cert_der,
    }
}

pub async fn start() -> Server {
    start_with(Policy::default(), |_| {}).await
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// A TLS connection to the server, verified against the CA, offering `alpn`.
pub async fn tls(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// An HTTP/1.1 client connection (keep-alive) over TLS.
pub struct Client {
    sender: http1::SendRequest<Full<Bytes>>,
    /// The server certificate of this connection.
    pub peer_cert: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, ca: &CertificateDer<'static>) -> Client {
        let stream = tls(addr, ca, &[b"http/1.1"]).await;
        let peer_cert = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        Client { sender, peer_cert }
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Bytes) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Full::new(Bytes::from(body))).unwrap();
        self.sender.ready().await.unwrap();
        let resp = self.sender.send_request(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    }

    /// `POST /validate` with `application/json`.
    pub async fn review(&mut self, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
        let (status, body) = self
            .send("POST", "/validate", Some("application/json"), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        (status, serde_json::from_slice(&body).unwrap())
    }
}

/// One request over HTTP/2 (ALPN h2).
pub async fn h2_review(
    addr: SocketAddr,
    ca: &CertificateDer<'static>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let stream = tls(addr, ca, &[b"h2"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method("POST")
        .uri("https://localhost/validate")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// A plain-HTTP GET on the metrics listener.
pub async fn get_plain(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let code = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (code, body)
}
