//! Falco's detections, not only its presence: the rules files Falco loads and whether they
//! disable the default detections the hardening guide relies on (a shell in a container, reads of
//! sensitive files such as /etc/shadow, writes below binary directories), and whether its alerts
//! reach an alerting sink.
//!
//! Rules files are read from ConfigMaps (data keys holding a rules list: `- rule: …`, `- macro:
//! …`, `- list: …`), plain rules files (`falco_rules.local.yaml`) and the falco chart's Helm
//! values (`customRules: {NAME.yaml: |- …}`). A watched rule is disabled by `enabled: false`
//! (legacy, or with `override: {enabled: replace}`), by a condition appended or replaced that can
//! never be true (`and never_true`, `and false`), or by an appended exception that matches every
//! event (a field compared with `startswith ""`, `contains ""`, `glob "*"` or `!=`).
//!
//! The alerting sink is read from Falco's configuration: `falco.yaml` (a file or a ConfigMap key)
//! and the chart's values (`falcosidekick.enabled`, `falco.http_output`…).

use crate::inventory::Object;
use kubeharden_model::cloud::{FALCO_CONFIG_KIND, FALCO_RULES_KIND, FALCO_VALUES_KIND};
use kubeharden_model::yaml::{self, Node};

/// The default rules (falco_rules.yaml) whose detections are checked.
pub const WATCHED: &[(&str, &str)] = &[
    (
        "Terminal shell in container",
        "a shell started in a container",
    ),
    (
        "Read sensitive file untrusted",
        "reads of sensitive files such as /etc/shadow",
    ),
    (
        "Read sensitive file trusted after startup",
        "reads of sensitive files after startup",
    ),
    ("Write below binary dir", "writes below binary directories"),
];

/// A watched detection turned off: where, which rule, what it detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    pub pointer: String,
    pub rule: &'static str,
    pub detects: &'static str,
    pub how: &'static str,
}

/// Does this text hold a Falco rules list?
fn rules_list(text: &str) -> Option<Node> {
    if !text.contains("rule:") {
        return None;
    }
    let Some(Ok(doc)) = yaml::parse_stream(text).into_iter().next() else {
        return None;
    };
    let root = doc.root?;
    root.items()
        .iter()
        .any(|i| i.get("rule").is_some() || i.get("macro").is_some() || i.get("list").is_some())
        .then_some(root)
}

/// Is this Falco's condition text one that is never true?
fn never_true(c: &str) -> bool {
    let c = c.trim().trim_start_matches("and ").trim();
    let c = c.trim_start_matches('(').trim_end_matches(')').trim();
    c == "never_true" || c == "false" || c.starts_with("never_true ") || c.starts_with("false ")
}

/// Does this exception match every event: every field compared so that any value matches?
fn swallowing_exception(e: &Node) -> bool {
    let as_list = |n: Option<&Node>| -> Vec<Node> {
        match n {
            Some(n) if n.is_seq() => n.items().to_vec(),
            Some(n) => vec![n.clone()],
            None => Vec::new(),
        }
    };
    let fields = as_list(e.get("fields"));
    let comps = as_list(e.get("comps"));
    if fields.is_empty() {
        return false;
    }
    let single = !e.get("fields").is_some_and(Node::is_seq);
    let values = e.get("values").map(Node::items).unwrap_or(&[]);
    let matches_all = |comp: &str, v: &str| match comp {
        "startswith" | "endswith" | "contains" | "icontains" | "bcontains" | "bstartswith" => {
            v.is_empty()
        }
        "glob" => v == "*",
        "!=" => true,
        _ => false,
    };
    values.iter().any(|tuple| {
        (0..fields.len()).all(|i| {
            let comp = comps
                .get(i)
                .and_then(Node::text)
                .unwrap_or(if single { "in" } else { "=" });
            let value = if single {
                tuple.text().map(str::to_owned)
            } else {
                tuple.items().get(i).and_then(Node::text).map(str::to_owned)
            };
            value.is_some_and(|v| matches_all(comp, &v))
        })
    })
}

/// The watched detections a rules list disables. `pointer` is where to report them (a ConfigMap
/// key or a Helm value holding the list as text); `None` for a rules file, whose items are
/// pointed at.
pub fn disabled_in(list: &Node, pointer: Option<&str>) -> Vec<Disabled> {
    let mut out = Vec::new();
    for (i, item) in list.items().iter().enumerate() {
        let Some(name) = item.get("rule").and_then(Node::text) else {
            continue;
        };
        let Some(&(rule, detects)) = WATCHED.iter().find(|(r, _)| *r == name) else {
            continue;
        };
        let appended = |field: &str| {
            item.get("append").and_then(Node::as_bool) == Some(true)
                || item
                    .pointer(&format!("/override/{field}"))
                    .and_then(Node::text)
                    == Some("append")
        };
        let replaced = item.pointer("/override/condition").and_then(Node::text) == Some("replace");
        let (how, field) = if item.get("enabled").and_then(Node::as_bool) == Some(false) {
            ("`enabled: false`", "enabled")
        } else if item
            .get("condition")
            .and_then(Node::text)
            .is_some_and(|c| (appended("condition") || replaced) && never_true(c))
        {
            (
                if replaced {
                    "a condition replaced by one that is never true"
                } else {
                    "an appended condition that is never true"
                },
                "condition",
            )
        } else if appended("exceptions")
            && item
                .get("exceptions")
                .is_some_and(|e| e.items().iter().any(swallowing_exception))
        {
            (
                "an appended exception that matches every event",
                "exceptions",
            )
        } else {
            continue;
        };
        out.push(Disabled {
            pointer: pointer.map_or_else(|| format!("/{i}/{field}"), str::to_owned),
            rule,
            detects,
            how,
        });
    }
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The rules lists an object holds, with where to report each (`None`: the object is the list).
fn rules_lists(o: &Object) -> Vec<(Node, Option<String>)> {
    let mut out = Vec::new();
    match (o.kind.as_str(), o.group()) {
        ("ConfigMap", "") => {
            for e in o.root.get("data").map(Node::entries).unwrap_or(&[]) {
                if let Some(list) = e.value.text().and_then(rules_list) {
                    out.push((list, Some(format!("/data/{}", escape(&e.key)))));
                }
            }
        }
        (FALCO_RULES_KIND, "falco") => out.push((o.root.clone(), None)),
        (FALCO_VALUES_KIND, "falco") => {
            for e in o.root.get("customRules").map(Node::entries).unwrap_or(&[]) {
                if let Some(list) = e.value.text().and_then(rules_list) {
                    out.push((list, Some(format!("/customRules/{}", escape(&e.key)))));
                }
            }
        }
        _ => {}
    }
    out
}

/// Is this an object holding Falco rules files?
pub fn is_rules_configmap(o: &Object) -> bool {
    !rules_lists(o).is_empty()
}

/// The watched detections the rules files of an object disable (a ConfigMap, a rules file, the
/// chart's `customRules`).
pub fn disabled(o: &Object) -> Vec<Disabled> {
    rules_lists(o)
        .iter()
        .flat_map(|(list, pointer)| disabled_in(list, pointer.as_deref()))
        .collect()
}

/// Falco's configuration in an object: the node holding the outputs and its pointer.
fn config(o: &Object) -> Option<(Node, String)> {
    match (o.kind.as_str(), o.group()) {
        (FALCO_CONFIG_KIND, "falco") => Some((o.root.clone(), String::new())),
        (FALCO_VALUES_KIND, "falco") => Some((
            o.root
                .get("falco")
                .cloned()
                .unwrap_or_else(|| o.root.clone()),
            "/falco".to_owned(),
        )),
        ("ConfigMap", "") => o.root.get("data")?.entries().iter().find_map(|e| {
            let text = e.value.text()?;
            // Falco's configuration has a `rules_file(s)` key: other data (a dashboard's JSON, a
            // script) is not parsed for it.
            if !["rules_file", "rules_files"]
                .iter()
                .any(|k| crate::load::may_hold_scalar(text, k))
            {
                return None;
            }
            let Some(Ok(doc)) = yaml::parse_stream(text).into_iter().next() else {
                return None;
            };
            let root = doc.root?;
            (kubeharden_model::cloud::recognize_falco(&root) == Some(FALCO_CONFIG_KIND))
                .then(|| (root, format!("/data/{}", escape(&e.key))))
        }),
        _ => None,
    }
}

/// Falco's configuration is in this object and sends alerts nowhere that alerts people:
/// falcosidekick not enabled (Helm values) and `http_output`, `program_output`, `grpc_output`
/// all off. Returns the pointer to report and what is configured instead.
pub fn no_alert_sink(o: &Object) -> Option<String> {
    let (cfg, base) = config(o)?;
    let on = |key: &str| {
        cfg.pointer(&format!("/{key}/enabled"))
            .and_then(Node::as_bool)
            == Some(true)
    };
    let sidekick = o.kind == FALCO_VALUES_KIND
        && o.root
            .pointer("/falcosidekick/enabled")
            .and_then(Node::as_bool)
            == Some(true);
    if sidekick || on("http_output") || on("program_output") || on("grpc_output") {
        return None;
    }
    // In a ConfigMap the configuration is text: its key is the place.
    if base.starts_with("/data/") {
        return Some(base);
    }
    let candidates = [
        "/falcosidekick/enabled".to_owned(),
        format!("{base}/http_output/enabled"),
        format!("{base}/http_output"),
        "/falcosidekick".to_owned(),
        base.clone(),
    ];
    Some(
        candidates
            .into_iter()
            .find(|p| !p.is_empty() && o.root.pointer(p).is_some())
            .unwrap_or_default(),
    )
}
