//! A small block-style YAML writer for JSON values. Strings are written plain only when they start
//! with a letter, hold nothing but letters, digits, spaces and `._/-`, and are not one of YAML 1.1's
//! boolean or null words; every other string is written as a JSON string (a valid YAML
//! double-quoted scalar). So no value can change type (`"yes"`, `"0644"`, `"2024-01-01"`) or break
//! the document, in YAML 1.1 and 1.2 readers alike.

use serde_json::Value;

fn plain(k: &str, spaces: bool) -> bool {
    let special = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c) || (spaces && c == ' '))
        && !k.ends_with(' ')
        && !special.contains(&k)
}

fn key(k: &str) -> String {
    if plain(k, false) {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn inline(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        Value::String(s) if plain(s, true) => s.clone(),
        other => other.to_string(),
    }
}

/// The value after `key:` or `-`.
fn tail(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(_) if is_block(v) => {
            out.push('\n');
            block(out, v, indent + 2);
        }
        Value::Array(_) if is_block(v) => {
            out.push('\n');
            block(out, v, indent);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(v));
            out.push('\n');
        }
    }
}

fn block(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push(':');
                tail(out, val, indent);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        for (i, (k, val)) in m.iter().enumerate() {
                            if i == 0 {
                                out.push(' ');
                            } else {
                                out.push_str(&pad);
                                out.push_str("  ");
                            }
                            out.push_str(&key(k));
                            out.push(':');
                            tail(out, val, indent + 2);
                        }
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        block(out, item, indent + 2);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&inline(item));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// One YAML document (no `---`) for a JSON value.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    if is_block(v) {
        block(&mut out, v, 0);
    } else {
        out.push_str(&inline(v));
        out.push('\n');
    }
    out
}

/// Writes `skeleton` as [`to_yaml`] would, except that the value [`crate::HOLE`] of its top-level
/// `key` is written as the block list of `items`, each built and written in turn.
pub(crate) fn write_yaml_spliced(
    out: &mut dyn std::io::Write,
    skeleton: &Value,
    key: &str,
    items: crate::Items<'_>,
) -> std::io::Result<()> {
    let text = to_yaml(skeleton);
    let needle = format!("\n{}: {}\n", self::key(key), Value::from(crate::HOLE));
    let at = text.find(&needle).expect("the skeleton holds the hole");
    out.write_all(&text.as_bytes()[..at + 1])?;
    out.write_all(self::key(key).as_bytes())?;
    out.write_all(b":")?;
    let mut empty = true;
    let mut item_text = String::new();
    for item in items {
        if empty {
            out.write_all(b"\n")?;
            empty = false;
        }
        // The list's lines, as `block` writes them for the whole list.
        item_text.clear();
        block(&mut item_text, &Value::Array(vec![item]), 0);
        out.write_all(item_text.as_bytes())?;
    }
    if empty {
        out.write_all(b" []\n")?;
    }
    out.write_all(&text.as_bytes()[at + needle.len()..])
}

#[cfg(test)]
mod tests {
    use super::to_yaml;
    use serde_json::json;

    /// What we write reads back (with Kubernetes' YAML 1.1 rules) as the same JSON.
    #[test]
    fn round_trips_through_a_yaml_1_1_reader() {
        let v = json!({
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "yes": "no",
            "on": true,
            "octal": "0644",
            "date": "2024-01-01",
            "number": 12,
            "float": 1.5,
            "null": null,
            "empty": {},
            "none": [],
            "colon": "a: b # c",
            "quote": "say \"hi\"\n\ttab",
            "unicode": "→ ü",
            "spaces": "two words",
            "trailing": "x ",
            "list": [1, "two", {"a": [{"b": "c", "d": []}], "e": "f"}, [1, [2]]],
            "nested": {"deeper": {"deepest": ["x"]}},
        });
        let text = to_yaml(&v);
        let docs = kubeharden_engine::yaml::parse_stream(&text);
        assert_eq!(docs.len(), 1, "{text}");
        let doc = docs.into_iter().next().unwrap().unwrap();
        assert_eq!(doc.root.unwrap().to_json(), v, "{text}");
        assert!(text.contains("apiVersion: wgpolicyk8s.io/v1alpha2\n"));
        assert!(text.contains("\"yes\": \"no\"\n"));
    }
}
