//! Falco's configuration sends its alerts to no alerting sink.

use super::falco_detection_disabled::describe;
use crate::analysis::falco::no_alert_sink;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "falco-alerts-not-forwarded",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "Falco's alerts reach no alerting sink (no falcosidekick, http_output or program_output)",
    rationale: "A detection nobody sees is no detection: by default Falco writes its alerts to \
        its own stdout and syslog on each node, where they scroll away unless a log pipeline \
        happens to pick them up and someone alerts on them. An intruder's shell in a container \
        is then found, if at all, long after the fact.",
    remedy: "Forward alerts to where people are paged: enable falcosidekick in the chart's values \
        (`falcosidekick.enabled: true` with an output such as Slack, Alertmanager or a SIEM), or \
        set `http_output` (with `json_output: true`) to your alerting endpoint, or \
        `program_output` to a forwarder.",
    references: References {
        docs: &[
            "https://falco.org/docs/concepts/outputs/forwarding/",
            "https://github.com/falcosecurity/falcosidekick",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::RuntimeDetector],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if let Some(pointer) = no_alert_sink(o) {
        emit.object(
            o,
            &pointer,
            format!(
                "{} sends Falco's alerts to no alerting sink: falcosidekick is not enabled and `http_output`, `program_output` and `grpc_output` are off, so detections stay in the nodes' logs",
                describe(o)
            ),
        );
    }
}
