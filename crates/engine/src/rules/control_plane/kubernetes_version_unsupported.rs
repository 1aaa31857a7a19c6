//! A control plane, kube-proxy or kind node runs a Kubernetes release past its upstream end of
//! support.

use crate::analysis::versions::{TABLE_DATE, past_end_of_support, stated};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "kubernetes-version-unsupported",
    // Rule 13: components past their end of support run with vulnerabilities nobody fixes, the
    // concern of image scanning; not the runtime section, whose failures say what the cluster
    // runs to detect and monitor.
    section: Section::Rule(13),
    severity: Severity::High,
    summary: "Kubernetes release past its upstream end of support",
    rationale: "The Kubernetes project patches the three most recent minor releases (about 14 \
        months each); after a release's end-of-life date its security fixes stop, and every CVE \
        published later stays open on clusters that run it. The version is read from the \
        control-plane and kube-proxy image tags (static Pods, hosted control planes), kubeadm's \
        `kubernetesVersion`, kind's node images, a node's version files (`/kind/version`, the \
        `kubelet` package in `/var/lib/dpkg/status`) and the live API server's `/version`, and \
        judged against the end-of-life dates \
        published on kubernetes.io/releases (kept as a dated table in the tool; a release newer \
        than the table counts as supported).",
    remedy: "Upgrade the control plane one minor release at a time (kubeadm upgrade plan / apply, \
        or the managed service's upgrade), then the kubelets, to a release listed as supported \
        on kubernetes.io/releases.",
    references: References {
        docs: &[
            "https://kubernetes.io/releases/",
            "https://kubernetes.io/releases/version-skew-policy/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    let versions = stated(o);
    if versions.is_empty() {
        return;
    }
    let today = kubeharden_model::date::today_utc();
    for v in versions {
        if let Some(eol) = past_end_of_support(v.minor, &today) {
            emit.object(
                o,
                &v.pointer,
                format!(
                    "{} runs Kubernetes {} (1.{}), past its upstream end of support ({eol}; \
                     support table of {TABLE_DATE}): it receives no security fixes",
                    v.what, v.version, v.minor
                ),
            );
        }
    }
}
