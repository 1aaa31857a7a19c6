//! An image without a tag, or tagged `latest`.

use crate::analysis::images;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "image-tag-latest",
    section: Section::Rule(13),
    severity: Severity::Medium,
    summary: "Container image has no tag or uses `latest`",
    rationale: "`latest` (also what the kubelet pulls when no tag is given) names whatever was pushed \
        last: two replicas can run different code, a rollback does not roll back, and a signature or \
        scan result recorded for one image says nothing about the next push. Anyone who can push to \
        the repository can change what runs.",
    remedy: "Reference an explicit version tag and, better, pin the digest: \
        `image: registry.example/app:1.4.2@sha256:<digest>`.",
    references: References {
        cis: &["5.5.1"],
        trivy: &["KSV013"],
        checkov: &["CKV_K8S_14"],
        kube_linter: &["latest-tag"],
        polaris: &["tagNotSpecified"],
        kubescape: &["C-0075"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        let Some(image) = c.field("image").and_then(Node::text) else {
            continue;
        };
        let r = images::parse(image);
        if r.digest.is_none() && r.tag.is_none_or(|tag| tag == "latest") {
            let how = if r.tag.is_none() {
                "has no tag (the kubelet pulls `latest`)"
            } else {
                "uses the `latest` tag"
            };
            emit.container(
                t.object,
                &c,
                &c.ptr("image"),
                format!("{} image `{image}` {how}", c.describe()),
            );
        }
    }
}
