//! A container keeps the runtime's default capabilities.

use crate::analysis::security_context::{self, normalize_capability};
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, New, Op, Outcome, PodFix, ok, set};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-capabilities-not-dropped",
    section: Section::Rule(8),
    severity: Severity::Medium,
    summary: "Container does not drop ALL capabilities",
    rationale: "Container runtimes grant a default set of capabilities (CHOWN, DAC_OVERRIDE, FOWNER, \
        SETUID, SETGID, NET_RAW, …). NET_RAW alone allows ARP and DNS spoofing of neighbouring pods; \
        DAC_OVERRIDE and SETUID help every privilege-escalation chain. Few applications need any.",
    remedy: "Set `securityContext.capabilities.drop: [\"ALL\"]` on every container and add back only \
        what is needed (usually nothing, at most `NET_BIND_SERVICE`).",
    references: References {
        pss: &["capabilities_restricted"],
        cis: &["5.2.9"],
        trivy: &["KSV003"],
        checkov: &["CKV_K8S_37", "CKV_K8S_28"],
        kube_linter: &["drop-net-raw-capability"],
        polaris: &["insecureCapabilities"],
        kubescape: &["C-0046"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 40,
    kind: FixKind::Safe,
    description: "Adds `ALL` to `securityContext.capabilities.drop` (creating it), or corrects \
            its spelling (`all` → `ALL`). Capabilities in `add` are kept.",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, c) in p.per_container {
        let caps = security_context::capabilities(c);
        let op = match caps
            .drop
            .iter()
            .find(|(name, _)| normalize_capability(name) == "ALL")
        {
            Some((_, ptr)) => set(ptr.clone(), New::str("ALL")),
            None => Op::Append {
                ptr: caps.drop_ptr.clone(),
                value: New::str("ALL"),
            },
        };
        out.push(ok(
            vec![*i],
            FixKind::Safe,
            vec![op],
            format!("{}: drop capability `ALL`", c.describe()),
        ));
    }
    out
}

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::is_windows(t) {
        return;
    }
    for c in t.containers() {
        let caps = security_context::capabilities(&c);
        if caps.drop.iter().any(|(name, _)| *name == "ALL") {
            continue;
        }
        let message = match caps
            .drop
            .iter()
            .find(|(name, _)| normalize_capability(name) == "ALL")
        {
            Some((name, _)) => format!(
                "{} drops `{name}`; Pod Security and most runtimes only recognise the exact spelling `ALL`",
                c.describe()
            ),
            None if caps.drop.is_empty() => {
                format!("{} does not drop any capabilities", c.describe())
            }
            None => format!(
                "{} drops only {}; the runtime's other default capabilities remain",
                c.describe(),
                caps.drop
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        emit.container(t.object, &c, &caps.drop_ptr, message);
    }
}
