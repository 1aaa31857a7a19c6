//! A kubeconfig (`kind: Config`) committed with the credentials it authenticates with.

use crate::analysis::runtime::is_private;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "kubeconfig-credentials-committed",
    section: Section::Rule(14),
    severity: Severity::Critical,
    summary: "Kubeconfig with credentials among the manifests",
    rationale: "A kubeconfig holding a bearer token, a client key, a password or an OIDC refresh \
        token is a key to the cluster: whoever reads the repository, a CI log or an artefact built \
        from it can use it from anywhere the API server is reachable, and it is rarely rotated. \
        Findings name the user and the field, never the value.",
    remedy: "Remove the file from the repository and its history, revoke the credential (delete the \
        token's Secret or ServiceAccount token, rotate the client certificate's key), and let \
        people and pipelines authenticate with short-lived credentials: an exec plugin (cloud IAM, \
        OIDC via kubelogin) or a projected ServiceAccount token.",
    references: References {
        kubescape: &["C-0012"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Object(check),
};

/// Fields of `users[].user` that hold a credential, and what it is.
const CREDENTIALS: &[(&str, &str)] = &[
    ("token", "a bearer token"),
    ("client-key-data", "a client certificate's private key"),
    ("password", "a password"),
];

/// Fields of `users[].user.auth-provider.config` (OIDC, legacy GCP/Azure) that hold one.
const PROVIDER_CREDENTIALS: &[(&str, &str)] = &[
    ("id-token", "an OIDC ID token"),
    ("refresh-token", "an OIDC refresh token"),
    ("client-secret", "an OAuth client secret"),
    ("access-token", "an access token"),
];

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Config" || o.api_version != "v1" {
        return;
    }
    // Where each cluster's API server is, and whether its TLS certificate is checked.
    let clusters: Vec<(&str, &str, bool)> = o
        .root
        .get("clusters")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| {
            let name = c.get("name")?.as_str()?;
            let cluster = c.get("cluster")?;
            let server = cluster.get("server").and_then(Node::as_str).unwrap_or("");
            let skip = cluster
                .get("insecure-skip-tls-verify")
                .and_then(Node::as_bool)
                .unwrap_or(false);
            Some((name, server, skip))
        })
        .collect();
    let contexts: Vec<(&str, &str)> = o
        .root
        .get("contexts")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|c| {
            let ctx = c.get("context")?;
            Some((ctx.get("user")?.as_str()?, ctx.get("cluster")?.as_str()?))
        })
        .collect();
    for (i, user) in o
        .root
        .get("users")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let name = user.get("name").and_then(Node::as_str).unwrap_or("");
        let Some(fields) = user.get("user") else {
            continue;
        };
        let mut held: Vec<(String, &str)> = CREDENTIALS
            .iter()
            .filter(|(f, _)| has_value(fields.get(f)))
            .map(|(f, what)| (format!("/users/{i}/user/{f}"), *what))
            .collect();
        let provider = fields.get("auth-provider").and_then(|p| p.get("config"));
        held.extend(
            PROVIDER_CREDENTIALS
                .iter()
                .filter(|(f, _)| has_value(provider.and_then(|c| c.get(f))))
                .map(|(f, what)| (format!("/users/{i}/user/auth-provider/config/{f}"), *what)),
        );
        for (pointer, what) in held {
            let reach = contexts
                .iter()
                .filter(|(u, _)| *u == name)
                .filter_map(|(_, c)| clusters.iter().find(|(n, _, _)| n == c))
                .map(|(n, server, skip)| where_(n, server, *skip))
                .collect::<Vec<_>>();
            let reach = if reach.is_empty() {
                String::new()
            } else {
                format!(" for {}", reach.join(", "))
            };
            emit.object(
                o,
                &pointer,
                format!("kubeconfig user \"{name}\" holds {what}{reach}"),
            );
        }
    }
}

fn has_value(node: Option<&Node>) -> bool {
    node.and_then(Node::text)
        .is_some_and(|v| !v.trim().is_empty() && !crate::analysis::secrets::is_placeholder(v))
}

/// `cluster "prod" (https://35.204.11.12:6443, a public address, TLS not verified)`.
fn where_(name: &str, server: &str, skip_tls: bool) -> String {
    let host = server
        .split_once("://")
        .map_or(server, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .map_or_else(
            || host.rsplit_once(':').map_or(host, |(h, _)| h),
            |(h, _)| h,
        );
    let mut notes = vec![server.to_owned()];
    if host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| !is_private(ip))
    {
        notes.push("a public address".to_owned());
    }
    if skip_tls {
        notes.push("TLS not verified".to_owned());
    }
    format!("cluster \"{name}\" ({})", notes.join(", "))
}

#[cfg(test)]
mod tests {
    use super::where_;

    #[test]
    fn describes_where_the_credential_works() {
        assert_eq!(
            where_("prod", "https://35.204.11.12:6443", true),
            "cluster \"prod\" (https://35.204.11.12:6443, a public address, TLS not verified)"
        );
        assert_eq!(
            where_("kind", "https://127.0.0.1:40123", false),
            "cluster \"kind\" (https://127.0.0.1:40123)"
        );
        assert_eq!(
            where_("v6", "https://[2001:db8::1]:443", false),
            "cluster \"v6\" (https://[2001:db8::1]:443, a public address)"
        );
    }
}
