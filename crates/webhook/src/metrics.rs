//! Prometheus metrics (`/metrics`, OpenMetrics text).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub path: &'static str,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReviewLabels {
    /// allowed, denied, exempt, skipped, timeout; for /mutate mutated, unchanged.
    pub decision: &'static str,
    pub operation: String,
    pub kind: String,
    pub dry_run: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub rule: &'static str,
    /// deny, warn, audit; `ratchet` for a deny turned into a warning on UPDATE.
    pub mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExemptionLabels {
    /// The rule whose finding was exempted; `*` for a whole request.
    pub rule: &'static str,
    /// exemptNamespaces, exemptUsers, exemptGroups, ruleExemptions, kubehardenConfig; with
    /// `objectAnnotations: true` also annotation, kube-linter, polaris, checkov, kubescape,
    /// kube-score.
    pub source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UnevaluableLabels {
    /// The rule id of the user's policy (`vap/<policy>/<binding>`, `gatekeeper/<kind>/<name>`).
    pub policy: &'static str,
    /// namespace_labels, params, match_conditions, authorizer, evaluation.
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// content_type, too_large, malformed, body_timeout, body_read, evaluation, timeout (with
    /// `--on-eval-timeout error`, or /mutate).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// ok, error.
    pub result: &'static str,
}

/// Every metric of the server.
pub struct Metrics {
    pub registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub reviews: Family<ReviewLabels, Counter>,
    pub findings: Family<FindingLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub exemptions: Family<ExemptionLabels, Counter>,
    /// The user's policies that could not be evaluated on a request, by policy and reason.
    pub policy_unevaluable: Family<UnevaluableLabels, Counter>,
    pub review_seconds: Histogram,
    pub in_flight: Gauge,
    /// Evaluations that overran `--eval-timeout` (the request was answered at the deadline).
    pub eval_timeouts: Counter,
    /// Evaluations abandoned at their deadline and still running.
    pub abandoned: Gauge,
    pub tls_reloads: Family<ReloadLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kubeharden_webhook");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by path and status code",
            requests.clone(),
        );
        let reviews = Family::<ReviewLabels, Counter>::default();
        registry.register(
            "reviews",
            "Admission reviews by decision, operation, kind and dry run",
            reviews.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "findings",
            "Findings at admission by rule and mode (deny, warn, audit, ratchet)",
            findings.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "errors",
            "Requests answered with an error, by reason",
            errors.clone(),
        );
        let exemptions = Family::<ExemptionLabels, Counter>::default();
        registry.register(
            "exemptions",
            "Exemptions used at admission, by rule (* for a whole request) and source",
            exemptions.clone(),
        );
        let policy_unevaluable = Family::<UnevaluableLabels, Counter>::default();
        registry.register(
            "policy_unevaluable",
            "Requests on which one of the user's policies could not be evaluated (it followed its failurePolicy), by policy and reason",
            policy_unevaluable.clone(),
        );
        let eval_timeouts = Counter::default();
        registry.register(
            "evaluation_timeouts",
            "Evaluations that did not finish within --eval-timeout (answered at the deadline)",
            eval_timeouts.clone(),
        );
        let abandoned = Gauge::default();
        registry.register(
            "abandoned_evaluations",
            "Evaluations abandoned at their deadline that are still running",
            abandoned.clone(),
        );
        // 50 µs to ~3.3 s.
        let review_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 17));
        registry.register(
            "review_duration_seconds",
            "Time to answer an admission review (body read, evaluation, encoding)",
            review_seconds.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_reviews",
            "Admission reviews being answered",
            in_flight.clone(),
        );
        let tls_reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Certificate reloads after the files changed, by result",
            tls_reloads.clone(),
        );
        Metrics {
            registry,
            requests,
            reviews,
            findings,
            errors,
            exemptions,
            policy_unevaluable,
            review_seconds,
            in_flight,
            eval_timeouts,
            abandoned,
            tls_reloads,
        }
    }

    pub fn error(&self, reason: &'static str) {
        self.errors.get_or_create(&ErrorLabels { reason }).inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
