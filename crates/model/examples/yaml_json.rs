//! The values kubeharden reads in each manifest, as JSON: one side of the `yaml` differential of
//! the e2e suite (`e2e/differential.py`), whose other side is what kubectl sends for the same
//! file (`e2e/tools/yamlcheck -json`: the `---` split of `k8s.io/apimachinery`, then
//! `sigs.k8s.io/yaml`).
//!
//! ```sh
//! cargo run --release -p kubeharden-model --example yaml_json -- FILE...
//! ```
//!
//! For each file, each document as the rules read it ([`kubeharden_model::yaml::parse_stream`]
//! and [`Node::to_json`](kubeharden_model::yaml::Node::to_json): YAML 1.1 values, the last of
//! duplicate keys, merge keys applied), one line `DOC<TAB>path<TAB>json`; empty documents and
//! documents after a `...` line (never applied) are left out, as kubectl leaves them out. Then
//! `OK<TAB>path`, or `ERR<TAB>path<TAB>message` at the first document kubeharden refuses.

use std::io::Write;

fn main() {
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for path in std::env::args().skip(1) {
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                writeln!(out, "ERR\t{path}\tnot UTF-8").unwrap();
                continue;
            }
            Err(e) => {
                writeln!(out, "ERR\t{path}\t{e}").unwrap();
                continue;
            }
        };
        let mut refused = None;
        for doc in kubeharden_model::yaml::parse_stream(&text) {
            match doc {
                Err(e) => {
                    refused = Some(format!("line {}: {}", e.pos.line, e.message));
                    break;
                }
                Ok(doc) if doc.after_end => {}
                Ok(doc) => {
                    let json = doc.root.as_ref().map(|root| root.to_json());
                    if let Some(json) = json.filter(|j| !j.is_null()) {
                        writeln!(out, "DOC\t{path}\t{json}").unwrap();
                    }
                }
            }
        }
        match refused {
            Some(message) => writeln!(out, "ERR\t{path}\t{}", message.replace('\n', " ")).unwrap(),
            None => writeln!(out, "OK\t{path}").unwrap(),
        }
    }
}
