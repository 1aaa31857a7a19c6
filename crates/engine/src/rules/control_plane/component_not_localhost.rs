//! controller-manager or scheduler listening on all interfaces.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "control-plane-component-not-localhost",
    section: Section::Rule(1),
    severity: Severity::Medium,
    summary: "kube-controller-manager or kube-scheduler is not bound to 127.0.0.1",
    rationale: "Their secure ports (10257, 10259) serve metrics, profiling and health endpoints; \
        bound to 0.0.0.0 (the default when `--bind-address` is unset) they are reachable from the \
        node network, widening the control plane's attack surface for no benefit.",
    remedy: "Set `--bind-address=127.0.0.1` on kube-controller-manager and kube-scheduler (kubeadm \
        does this by default).",
    references: References {
        cis: &["1.3.7", "1.4.2"],
        ..References::NONE
    },
    evidence: &[Evidence::ControllerManagerOrSchedulerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for component in [Component::ControllerManager, Component::Scheduler] {
        for flags in flags_of(o, component) {
            match flags.get("bind-address") {
                Some(f) if f.value == "127.0.0.1" || f.value == "::1" => {}
                Some(f) => emit.object(o, &flags.pointer("bind-address"), format!("{} `--bind-address={}` is not localhost", component.binary(), f.value)),
                None => emit.object(o, &flags.anchor, format!("{} has no `--bind-address`: it listens on 0.0.0.0 (kube-bench passes this; the default is not localhost)", component.binary())),
            }
        }
    }
}
