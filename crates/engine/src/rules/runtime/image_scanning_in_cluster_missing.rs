//! No in-cluster scanning of running images (Trivy operator)

use super::require;
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "image-scanning-in-cluster-missing",
    section: Section::Rule(13),
    severity: Severity::Info,
    summary: "No in-cluster scanning of running images (Trivy operator)",
    rationale: "A CI scan sees an image once, when it is built; vulnerabilities are published every day afterwards. An in-cluster scanner (Trivy operator, Kubescape) rescans what actually runs, including images nobody built in your CI (operators, charts, sidecars), and reports new CVEs as VulnerabilityReports that dashboards and alerts can read.",
    remedy: "Install the Trivy operator (`helm install trivy-operator aqua/trivy-operator -n trivy-system --create-namespace`) and alert on critical VulnerabilityReports; keep CI scanning as the gate before deployment.",
    references: References {
        docs: &["https://aquasecurity.github.io/trivy-operator/latest/"],
        ..References::NONE
    },
    evidence: &[Evidence::ImageScanner],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    require(
        facts,
        emit,
        Component::ImageScanner,
        "no in-cluster image scanner (Trivy operator, Starboard, Kubescape kubevuln) runs in the cluster: running images are not rescanned for new vulnerabilities",
    );
}
