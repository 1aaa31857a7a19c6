//! The API server answers unauthenticated requests.

use crate::analysis::runtime::is_cluster_connection;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "apiserver-answers-anonymous-requests",
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "The API server answers requests without credentials",
    rationale: "Flags and RBAC bindings say what should happen; a request without credentials says \
        what does. When `/version`, `/api` or `/apis` answer an unauthenticated client, anonymous \
        authentication is on and `system:anonymous` or `system:unauthenticated` is authorized for \
        something: the version tells an attacker which CVEs apply, discovery maps the cluster, and \
        any broader binding (a classic misconfiguration) hands out data.",
    remedy: "Set `--anonymous-auth=false` on the API server (or, from 1.32, an \
        AuthenticationConfiguration `anonymous` block limited to `/livez`, `/readyz`, `/healthz`), \
        and remove bindings to `system:anonymous` and `system:unauthenticated` (including \
        `system:public-info-viewer` if you do not need it); re-run `kubeharden cluster \
        --probe-anonymous`.",
    references: References {
        cis: &["1.2.1"],
        kubescape: &["C-0262"],
        docs: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::AnonymousProbe],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if !is_cluster_connection(o) {
        return;
    }
    let server = o.root.get("server").and_then(Node::text).unwrap_or("?");
    let probes = o.root.get("anonymousProbe").map(Node::items).unwrap_or(&[]);
    for (i, p) in probes.iter().enumerate() {
        let status = p.get("status").and_then(Node::as_i64).unwrap_or(0);
        if (200..300).contains(&status) {
            let path = p.get("path").and_then(Node::text).unwrap_or("?");
            emit.object(
                o,
                &format!("/anonymousProbe/{i}/status"),
                format!("{server}{path} answered {status} to a request without credentials"),
            );
        }
    }
}
