//! An image referenced by a mutable tag instead of a digest.

use crate::analysis::images;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "image-not-pinned-by-digest",
    section: Section::Rule(13),
    severity: Severity::Low,
    summary: "Container image is not pinned by digest",
    rationale: "Tags are mutable: the registry can serve different content for `app:1.4.2` tomorrow \
        (a compromised registry account, a re-pushed tag). Only a digest guarantees that the image \
        that was scanned in CI and signed is the image that runs. Signature verifiers such as Kyverno \
        and policy-controller resolve tags to digests at admission; pinning in git makes it reviewable.",
    remedy: "Append the digest: `image: registry.example/app:1.4.2@sha256:<digest>` (`crane digest`, \
        `docker buildx imagetools inspect`), and let a bot such as Renovate update it.",
    references: References {
        docs: &["https://kubernetes.io/docs/concepts/containers/images/#image-names"],
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
        if !r.is_pinned() {
            let note = if r.digest.is_some() {
                " (the digest is malformed)"
            } else {
                ""
            };
            emit.container(
                t.object,
                &c,
                &c.ptr("image"),
                format!(
                    "{} image `{image}` is not pinned by digest{note}",
                    c.describe()
                ),
            );
        }
    }
}
