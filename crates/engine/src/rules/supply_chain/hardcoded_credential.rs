//! A credential written literally into a container's environment.

use crate::analysis::secrets;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "hardcoded-credential-in-env",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "Credential hard-coded in a container's environment or command line",
    rationale: "A literal `env[].value` or command-line argument is stored in the workload object, \
        readable by anyone who can `get` the Deployment (far more people than can read Secrets), \
        shown by `kubectl describe` and `ps`, committed to git, and never rotated. Values from \
        `valueFrom.secretKeyRef` are fine. Findings name the variable, never the value.",
    remedy: "Move the value to a Secret managed by Sealed Secrets or External Secrets and reference it \
        with `valueFrom.secretKeyRef`, or mount it as a file; rotate the exposed credential.",
    references: References {
        kube_linter: &["env-var-secret"],
        polaris: &["sensitiveContainerEnvVar"],
        kubescape: &["C-0012"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        for field in ["command", "args"] {
            for (i, arg) in c
                .field(field)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let Some(text) = arg.text() else { continue };
                if let Some(why) = secrets::credential_in_argument(text) {
                    emit.container(
                        t.object,
                        &c,
                        &c.ptr(&format!("{field}/{i}")),
                        format!(
                            "{} passes a credential on its command line ({field}[{i}]: {why})",
                            c.describe()
                        ),
                    );
                }
            }
        }
        for (i, env) in c
            .field("env")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let (Some(name), Some(value)) = (
                env.get("name").and_then(Node::text),
                env.get("value").and_then(Node::text),
            ) else {
                continue;
            };
            if let Some(why) = secrets::credential_in_env(name, value) {
                emit.container(
                    t.object,
                    &c,
                    &c.ptr(&format!("env/{i}/value")),
                    format!("{} sets `{name}` to a literal {why}", c.describe()),
                );
            }
        }
    }
}
