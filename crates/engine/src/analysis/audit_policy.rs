//! Audit policy content as the CIS Kubernetes Benchmark (3.2) asks: Secrets, ConfigMaps and
//! TokenReviews logged at `Metadata` only. At `Request` or `RequestResponse` the event holds the
//! object: a Secret's value, a ConfigMap's data (often credentials), the bearer token under
//! review. Token requests (`serviceaccounts/token`) return a token in the response body, so
//! `RequestResponse` leaks it. The policy is matched as the API server matches it
//! ([`crate::analysis::control_plane::audit_level`], first matching rule wins).

use crate::analysis::control_plane::{AuditLevel, AuditRequest, audit_level};
use crate::yaml::Node;
use std::collections::BTreeMap;

/// A resource whose audit events must stay at `Metadata`.
pub struct MetadataOnly {
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    /// Verbs whose request or response carries the content.
    pub verbs: &'static [&'static str],
    /// The lowest level that writes the content into the log.
    pub leaks_at: AuditLevel,
}

const CONTENT_VERBS: &[&str] = &["get", "list", "watch", "create", "update", "patch"];

pub const METADATA_ONLY: &[MetadataOnly] = &[
    MetadataOnly {
        group: "",
        resource: "secrets",
        subresource: "",
        verbs: CONTENT_VERBS,
        leaks_at: AuditLevel::Request,
    },
    MetadataOnly {
        group: "",
        resource: "configmaps",
        subresource: "",
        verbs: CONTENT_VERBS,
        leaks_at: AuditLevel::Request,
    },
    MetadataOnly {
        group: "authentication.k8s.io",
        resource: "tokenreviews",
        subresource: "",
        verbs: &["create"],
        leaks_at: AuditLevel::Request,
    },
    MetadataOnly {
        group: "",
        resource: "serviceaccounts",
        subresource: "token",
        verbs: &["create"],
        leaks_at: AuditLevel::RequestResponse,
    },
];

impl MetadataOnly {
    /// `secrets`, `serviceaccounts/token`.
    pub fn name(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// A rule of the policy that logs sensitive content: its index, its level, and the resources
/// (catalogue order) it logs above `Metadata`.
#[derive(Debug, PartialEq, Eq)]
pub struct Leak {
    pub rule: usize,
    pub level: AuditLevel,
    pub resources: Vec<String>,
}

/// The rules of an audit `Policy` that log Secrets, ConfigMaps, TokenReviews or token requests
/// with their content, for an ordinary authenticated user (rules limited to other users or
/// groups do not match it), in the order of the policy.
pub fn leaks(policy: &Node) -> Vec<Leak> {
    let groups: &[&str] = &["system:authenticated"];
    let mut by_rule: BTreeMap<usize, Leak> = BTreeMap::new();
    for m in METADATA_ONLY {
        for verb in m.verbs {
            let request = AuditRequest {
                user: "jane@example.com",
                groups,
                verb,
                api_group: Some(m.group),
                resource: m.resource,
                subresource: m.subresource,
                namespace: "default",
                name: "x",
                path: "",
            };
            let (level, Some(rule)) = audit_level(policy, &request) else {
                continue;
            };
            if level < m.leaks_at {
                continue;
            }
            let leak = by_rule.entry(rule).or_insert_with(|| Leak {
                rule,
                level,
                resources: Vec::new(),
            });
            let name = m.name();
            if !leak.resources.contains(&name) {
                leak.resources.push(name);
            }
        }
    }
    by_rule.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn leaks_of(yaml: &str) -> Vec<Leak> {
        let loaded = load_bytes("p.yaml", yaml.as_bytes().to_vec());
        leaks(&loaded.objects[0].root)
    }

    #[test]
    fn configmaps_at_request_response_leak_metadata_does_not() {
        // CIS 3.2: ConfigMaps at RequestResponse; Secrets at Metadata are fine; a catch-all
        // Request rule after them catches TokenReviews (not token requests: their token is in
        // the response only).
        let got = leaks_of(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n  resources:\n  - group: \"\"\n    resources: [configmaps]\n- level: Metadata\n  resources:\n  - group: \"\"\n    resources: [secrets]\n- level: Request\n",
        );
        assert_eq!(
            got,
            vec![
                Leak {
                    rule: 0,
                    level: AuditLevel::RequestResponse,
                    resources: vec!["configmaps".into()]
                },
                Leak {
                    rule: 2,
                    level: AuditLevel::Request,
                    resources: vec!["tokenreviews".into()]
                },
            ]
        );
        // The documented example policy's first rule logs pod changes at RequestResponse and
        // its secrets/configmaps rule at Metadata: nothing leaks.
        assert!(leaks_of("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n  resources:\n  - group: \"\"\n    resources: [\"pods\"]\n- level: Metadata\n  resources:\n  - group: \"\"\n    resources: [\"secrets\", \"configmaps\"]\n  - group: authentication.k8s.io\n    resources: [tokenreviews]\n- level: Metadata\n").is_empty());
    }
}
