//! The YAML parser alone over the manifests a directory scan reads: the yardstick of "a scan's
//! CPU against what parsing the same bytes costs" (`bench/run.sh` prints the ratio).
//!
//! ```sh
//! cargo run --release -p kubeharden-model --example parse_only -- ../shared/corpus/real
//! ```
//!
//! The files are those `kubeharden scan DIR` reads ([`expand_paths`]) that hold manifests
//! (`.yaml`, `.yml`, `.json`), each read and run through saphyr's event parser to its end or its
//! first error, on one thread; the events are counted and dropped (no tree, no objects). Prints
//! the files, bytes and events parsed, and the parse errors met.
//!
//! With `--tree` first, each file is instead read into the tree a scan builds
//! ([`kubeharden_model::yaml::parse_stream`]: the same parser, each node with its position, YAML
//! 1.1 values, duplicate keys, merge keys), and the tree dropped: what a scan cannot do without,
//! before any rule.

use kubeharden_model::paths::{expand_paths, is_manifest_path};
use saphyr_parser::{Event, Parser};
use std::path::PathBuf;

fn main() {
    let mut args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let tree = args.first().is_some_and(|a| a.as_os_str() == "--tree");
    let roots = args.split_off(usize::from(tree));
    if roots.is_empty() {
        eprintln!("usage: parse_only [--tree] DIR|FILE...");
        std::process::exit(2);
    }
    let (files, _) = expand_paths(&roots);
    let (mut parsed, mut bytes, mut events, mut errors) = (0usize, 0usize, 0usize, 0usize);
    for file in files
        .iter()
        .filter(|f| is_manifest_path(f) && f.extension().is_some_and(|e| e != "tf"))
    {
        let Ok(data) = std::fs::read(file) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        parsed += 1;
        bytes += data.len();
        if tree {
            for doc in kubeharden_model::yaml::parse_stream(text) {
                match doc {
                    Ok(_) => events += 1,
                    Err(_) => errors += 1,
                }
            }
            continue;
        }
        for event in Parser::new_from_str(text).keep_tags(true) {
            match event {
                Ok((Event::StreamEnd, _)) => break,
                Ok(_) => events += 1,
                Err(_) => {
                    errors += 1;
                    break;
                }
            }
        }
    }
    let unit = if tree { "documents" } else { "events" };
    println!("{parsed} files, {bytes} bytes, {events} {unit}, {errors} parse errors");
}
