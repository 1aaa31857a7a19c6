//! Which admission controls in the inventory verify image signatures, in which mode, and which
//! namespaces they cover. Reference: `reference/images-secrets.md` §2.

use crate::inventory::Object;
use crate::yaml::Node;

/// The namespaces a verifier applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Scope {
    /// Every namespace except those listed.
    AllExcept(Vec<String>),
    /// Only the namespaces listed.
    Only(Vec<String>),
    /// Namespaces whose labels include `key=value` (sigstore policy-controller's opt-in).
    LabelOptIn {
        key: &'static str,
        value: &'static str,
    },
}

/// One signature-verifying admission control found in the inventory.
#[derive(Clone, Debug)]
pub struct Verifier<'a> {
    pub tool: &'static str,
    pub object: &'a Object,
    /// Rejects unsigned images (rather than only reporting or warning).
    pub enforcing: bool,
    /// Lets pods through when the verifier is unreachable (`failurePolicy: Ignore`).
    pub fails_open: bool,
    pub scope: Scope,
    /// Why the mode is what it is, for messages.
    pub mode: String,
}

impl Verifier<'_> {
    /// Does this verifier apply to a namespace with these labels?
    pub fn covers(&self, namespace: &str, labels: Option<&crate::selector::Labels>) -> bool {
        match &self.scope {
            Scope::AllExcept(ex) => !ex.iter().any(|e| glob_match(e, namespace)),
            Scope::Only(only) => only.iter().any(|o| glob_match(o, namespace)),
            Scope::LabelOptIn { key, value } => {
                labels.and_then(|l| l.get(key)).is_some_and(|v| v == value)
            }
        }
    }
}

/// Kyverno's wildcard matching (`*` and `?`) for namespace names.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn strings(n: Option<&Node>) -> Vec<String> {
    n.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|x| x.text().map(str::to_owned))
        .collect()
}

/// Namespaces named in Kyverno `match`/`exclude` blocks (`any`/`all` lists or the legacy form).
fn kyverno_namespaces(block: Option<&Node>) -> Vec<String> {
    let Some(b) = block else { return Vec::new() };
    let mut out = strings(b.pointer("/resources/namespaces"));
    for list in ["any", "all"] {
        for f in b.get(list).map(Node::items).unwrap_or(&[]) {
            out.extend(strings(f.pointer("/resources/namespaces")));
        }
    }
    out
}

fn kyverno(o: &Object) -> Option<Verifier<'_>> {
    let spec = o.root.get("spec")?;
    let rules: Vec<&Node> = spec
        .get("rules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter(|r| r.get("verifyImages").is_some_and(|v| !v.items().is_empty()))
        .collect();
    if rules.is_empty() {
        return None;
    }
    // Rule-level `failureAction` (1.13+) overrides the legacy spec-level `validationFailureAction`;
    // the default is Audit.
    let spec_action = spec
        .get("validationFailureAction")
        .and_then(Node::text)
        .unwrap_or("Audit");
    let enforcing = rules.iter().any(|r| {
        let rule_action = r.get("verifyImages").and_then(|v| {
            v.items()
                .iter()
                .find_map(|vi| vi.get("failureAction").and_then(Node::text))
        });
        rule_action
            .unwrap_or(spec_action)
            .eq_ignore_ascii_case("enforce")
    });
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for r in &rules {
        include.extend(kyverno_namespaces(r.get("match")));
        exclude.extend(kyverno_namespaces(r.get("exclude")));
    }
    let scope = if o.kind == "Policy" {
        Scope::Only(vec![
            o.effective_namespace().unwrap_or("default").to_owned(),
        ])
    } else if include.is_empty() {
        Scope::AllExcept(exclude)
    } else {
        Scope::Only(
            include
                .into_iter()
                .filter(|i| !exclude.contains(i))
                .collect(),
        )
    };
    let fails_open = spec.get("failurePolicy").and_then(Node::text) == Some("Ignore");
    Some(Verifier {
        tool: "Kyverno verifyImages",
        object: o,
        enforcing,
        fails_open,
        scope,
        mode: if enforcing {
            "Enforce".into()
        } else {
            format!("{spec_action} (reports only)")
        },
    })
}

fn kyverno_image_validating(o: &Object) -> Verifier<'_> {
    let actions = strings(o.root.pointer("/spec/validationActions"));
    let enforcing = actions.is_empty() || actions.iter().any(|a| a == "Deny");
    Verifier {
        tool: "Kyverno ImageValidatingPolicy",
        object: o,
        enforcing,
        fails_open: o.root.pointer("/spec/failurePolicy").and_then(Node::text) == Some("Ignore"),
        scope: Scope::AllExcept(Vec::new()),
        mode: if enforcing {
            "Deny".into()
        } else {
            format!("{} (does not deny)", actions.join(","))
        },
    }
}

fn sigstore(o: &Object) -> Verifier<'_> {
    let mode = o
        .root
        .pointer("/spec/mode")
        .and_then(Node::text)
        .unwrap_or("enforce");
    Verifier {
        tool: "sigstore policy-controller",
        object: o,
        enforcing: mode == "enforce",
        fails_open: false,
        // Only namespaces that opt in are verified.
        scope: Scope::LabelOptIn {
            key: "policy.sigstore.dev/include",
            value: "true",
        },
        mode: mode.to_owned(),
    }
}

fn ratify(o: &Object) -> Verifier<'_> {
    let action = o
        .root
        .pointer("/spec/enforcementAction")
        .and_then(Node::text)
        .unwrap_or("deny");
    let only = strings(o.root.pointer("/spec/match/namespaces"));
    let excluded = strings(o.root.pointer("/spec/match/excludedNamespaces"));
    Verifier {
        tool: "Gatekeeper + Ratify",
        object: o,
        enforcing: action == "deny",
        fails_open: false,
        scope: if only.is_empty() {
            Scope::AllExcept(excluded)
        } else {
            Scope::Only(only)
        },
        mode: action.to_owned(),
    }
}

fn connaisseur(o: &Object) -> Option<Verifier<'_>> {
    let hooks = o.root.get("webhooks").map(Node::items).unwrap_or(&[]);
    let hook = hooks.iter().find(|h| {
        h.get("name")
            .and_then(Node::text)
            .is_some_and(|n| n.contains("connaisseur"))
    })?;
    let fails_open = hook.get("failurePolicy").and_then(Node::text) == Some("Ignore");
    Some(Verifier {
        tool: "Connaisseur",
        object: o,
        enforcing: true,
        fails_open,
        // Namespaces opt out with the label `securesystemsengineering.connaisseur/webhook: ignore`.
        scope: Scope::AllExcept(Vec::new()),
        mode: "validate".into(),
    })
}

fn image_policy_webhook(o: &Object) -> Option<Verifier<'_>> {
    let plugin = o
        .root
        .get("plugins")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .find(|p| p.get("name").and_then(Node::text) == Some("ImagePolicyWebhook"))?;
    let default_allow = plugin
        .pointer("/configuration/imagePolicy/defaultAllow")
        .and_then(Node::as_bool)
        .unwrap_or(false);
    Some(Verifier {
        tool: "ImagePolicyWebhook",
        object: o,
        enforcing: true,
        fails_open: default_allow,
        scope: Scope::AllExcept(Vec::new()),
        mode: "admission plugin".into(),
    })
}

/// The verifier an object is, if any.
pub fn verifier(o: &Object) -> Option<Verifier<'_>> {
    match (o.group(), o.kind.as_str()) {
        ("kyverno.io", "ClusterPolicy" | "Policy") => kyverno(o),
        ("policies.kyverno.io", "ImageValidatingPolicy") => Some(kyverno_image_validating(o)),
        ("policy.sigstore.dev", "ClusterImagePolicy") => Some(sigstore(o)),
        ("constraints.gatekeeper.sh", "RatifyVerification") => Some(ratify(o)),
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => connaisseur(o),
        ("apiserver.config.k8s.io" | "apiserver.k8s.io", "AdmissionConfiguration") => {
            image_policy_webhook(o)
        }
        _ => None,
    }
}

/// Does the object show the cluster's admission control (so that the absence of a verifier
/// means something)?
pub fn is_admission_evidence(o: &Object) -> bool {
    matches!(
        (o.group(), o.kind.as_str()),
        ("admissionregistration.k8s.io", _)
            | ("kyverno.io", _)
            | ("policies.kyverno.io", _)
            | ("policy.sigstore.dev", _)
            | ("templates.gatekeeper.sh", _)
            | ("constraints.gatekeeper.sh", _)
            | (
                "apiserver.config.k8s.io" | "apiserver.k8s.io",
                "AdmissionConfiguration"
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    #[test]
    fn kyverno_modes_and_scopes() {
        let l = load_bytes(
            "k.yaml",
            b"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: verify}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    exclude: {any: [{resources: {namespaces: [kube-*]}}]}\n    verifyImages:\n    - imageReferences: ['*']\n---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: audit}\nspec:\n  rules:\n  - name: r\n    verifyImages: [{imageReferences: ['*'], failureAction: Audit}]\n".to_vec(),
        );
        let v = verifier(&l.objects[0]).unwrap();
        assert!(v.enforcing);
        assert!(v.covers("shop", None));
        assert!(!v.covers("kube-system", None));
        assert!(!verifier(&l.objects[1]).unwrap().enforcing);
    }

    #[test]
    fn globs() {
        assert!(glob_match("kube-*", "kube-system"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("kube-*", "shop"));
    }
}
