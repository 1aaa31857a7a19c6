//! Examples of each rule, for `kubeharden explain`: the fixtures the rule tests run
//! (`tests/fixtures/rules/<rule-id>/fire.yaml` and `pass.yaml`), embedded at build time by
//! `build.rs`, so an example can never drift from what is tested.

/// The YAML of a rule's examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Examples {
    /// Objects the rule reports.
    pub fire: &'static str,
    /// Objects the rule accepts.
    pub pass: &'static str,
}

/// Sorted by rule id.
static EXAMPLES: &[(&str, Examples)] = include!(concat!(env!("OUT_DIR"), "/rule_examples.rs"));

/// The examples of a built-in rule; `None` for a rule whose evidence a YAML file cannot carry
/// (the audit log, a node's file permissions).
pub fn examples(id: &str) -> Option<Examples> {
    EXAMPLES
        .binary_search_by(|(k, _)| (*k).cmp(id))
        .ok()
        .map(|i| EXAMPLES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_names_rules() {
        assert!(EXAMPLES.windows(2).all(|w| w[0].0 < w[1].0));
        for (id, _) in EXAMPLES {
            assert!(
                super::super::find(id).is_some(),
                "examples of no rule: {id}"
            );
        }
        let e = examples("container-privileged").unwrap();
        assert!(e.fire.contains("privileged") && e.pass.contains("privileged"));
        assert!(examples("nope").is_none());
    }
}
