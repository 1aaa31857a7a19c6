//! Generators for what is missing rather than wrong: a default-deny NetworkPolicy (with DNS to
//! kube-dns allowed) for a namespace, and a Namespace carrying the Pod Security labels.

use crate::analysis::netpol::Direction;

/// Is `name` a valid namespace name (an RFC 1123 label)?
pub fn valid_namespace(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A NetworkPolicy selecting every pod of `ns` that denies the given directions, and, when egress
/// is denied, one that lets every pod resolve names through kube-dns (UDP and TCP 53 to the
/// `k8s-app: kube-dns` pods of kube-system). Documents start with `---`.
pub fn default_deny(ns: &str, directions: &[Direction], deny_name: &str, dns_name: &str) -> String {
    let mut out = String::new();
    let types: String = directions
        .iter()
        .map(|d| format!("  - {}\n", d.as_str()))
        .collect();
    out.push_str(&format!(
        "---\n# Default deny: every pod of the namespace, no traffic unless another policy allows it.\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {deny_name}\n  namespace: {ns}\n\
         spec:\n  podSelector: {{}}\n  policyTypes:\n{types}"
    ));
    if directions.contains(&Direction::Egress) {
        out.push_str(&format!(
            "---\n# Name resolution through the cluster DNS, which a default deny of egress blocks.\n\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {dns_name}\n  namespace: {ns}\n\
             spec:\n  podSelector: {{}}\n  policyTypes:\n  - Egress\n  egress:\n  - to:\n    - namespaceSelector:\n        \
             matchLabels:\n          kubernetes.io/metadata.name: kube-system\n      podSelector:\n        matchLabels:\n          \
             k8s-app: kube-dns\n    ports:\n    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53\n"
        ));
    }
    out
}

/// A Namespace enforcing, auditing and warning at `level`, enforcement pinned to `v1.<minor>`.
pub fn psa_namespace(ns: &str, level: &str, minor: u32) -> String {
    format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    \
         pod-security.kubernetes.io/enforce: {level}\n    pod-security.kubernetes.io/enforce-version: v1.{minor}\n    \
         pod-security.kubernetes.io/audit: {level}\n    pod-security.kubernetes.io/warn: {level}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Input;
    use crate::scan::scan_all;
    use std::sync::Arc;

    #[test]
    fn generated_manifests_satisfy_the_rules() {
        let workload = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: a, image: x}]\n";
        let mut text = String::from(workload);
        text.push_str(&default_deny(
            "shop",
            &Direction::BOTH,
            "default-deny",
            "allow-dns",
        ));
        text.push_str(&psa_namespace("shop", "restricted", 33));
        let report = scan_all(&[Input::Bytes {
            name: "g.yaml".into(),
            bytes: Arc::from(text.into_bytes()),
        }]);
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        for rule in [
            "namespace-missing-default-deny-ingress",
            "namespace-missing-default-deny-egress",
            "dns-egress-unrestricted",
            "egress-to-any-destination",
            "namespace-pss-not-restricted",
            "namespace-pss-version-or-audit-missing",
            "namespace-pss-label-invalid",
        ] {
            let hits: Vec<_> = report.findings.iter().filter(|f| f.rule == rule).collect();
            assert!(hits.is_empty(), "{rule}: {hits:?}");
        }
    }

    #[test]
    fn namespace_names() {
        assert!(valid_namespace("shop-1"));
        for bad in ["", "Shop", "-a", "a-", "a.b", "a b", &"x".repeat(64)] {
            assert!(!valid_namespace(bad), "{bad}");
        }
    }
}
