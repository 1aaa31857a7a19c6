//! `kubeharden serve`: a ValidatingAdmissionWebhook (`admission.k8s.io/v1` AdmissionReview) that
//! judges each admitted object with the rules of `kubeharden scan`, the same engine and the same
//! findings, and denies, warns or audits by the policy's mode of each finding.
//!
//! Only per-object and per-pod-template rules run at admission: a single object has no
//! neighbours, so the cross-object rules (default-deny NetworkPolicies, RBAC, ServiceAccounts)
//! would report false gaps; they belong to `kubeharden scan` and `kubeharden cluster`.
//!
//! - [`admission`]: the AdmissionReview wire format (serde, no kube-rs).
//! - [`policy`]: modes (deny, warn, audit, off) by rule and severity; namespace, user and group
//!   exemptions, rule exemptions; the `.kubeharden.yaml` it shares with `scan`. The object's own
//!   suppression annotations exempt nothing at admission unless `objectAnnotations: true`.
//! - [`review`]: one review, from the object to the response (control characters escaped).
//! - [`mutate`]: the engine's safe fixes as a JSONPatch (`POST /mutate`).
//! - [`namespaces`]: the Namespace of an admitted object, for the user's policies that select by
//!   its labels; a policy that cannot be evaluated follows its `failurePolicy`, never skipped
//!   in silence.
//! - [`server`]: HTTPS (rustls, ring), certificate reload, health, metrics, limits, the
//!   evaluation deadline, shutdown.

pub mod admission;
pub mod metrics;
pub mod mutate;
pub mod namespaces;
pub mod policy;
pub mod review;
pub mod server;

pub use policy::{Mode, Policy};
pub use review::Reviewer;
pub use server::{Running, ServeOptions, serve, start};

/// Installs the log subscriber: JSON lines on stdout (`json`) or human text, filtered by
/// `RUST_LOG` when set, else by `level`.
pub fn init_logging(json: bool, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
