//! Parsing against scanning, over the shared corpus's `real/` directory (1,440 files, ~14.8 MB),
//! so that the cost of the rules relative to the parser is visible:
//!
//! ```sh
//! cargo bench -p kubeharden-engine --bench scan
//! ```
//!
//! - `parse`: [`yaml::parse_stream`] over every file's text (in memory), in parallel;
//! - `load`: [`kubeharden_engine::load::load_bytes`]: parse and build the objects, in parallel;
//! - `scan_no_rules`: [`scan::scan`] with no rule: the pipeline (phase 0 namespace pre-pass,
//!   loading, facts), from memory;
//! - `scan_all`: [`scan::scan_all`], from memory;
//! - `scan_all_files`: [`scan::scan_all`] on the files (reading included), as the CLI does.
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default: `../../../shared/corpus` from this
//! crate); without it the benchmarks are skipped.

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use kubeharden_engine::load::Input;
use kubeharden_engine::scan;
use kubeharden_engine::yaml;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

struct Corpus {
    files: Vec<PathBuf>,
    /// The files' contents, as scan inputs.
    inputs: Vec<Input>,
    /// The files that are UTF-8 text, for the parser alone.
    texts: Vec<String>,
    bytes: usize,
    objects: usize,
}

static CORPUS: LazyLock<Option<Corpus>> = LazyLock::new(|| {
    let dir = match std::env::var_os("KUBEHARDEN_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let real = dir.join("real");
    if !real.is_dir() {
        return None;
    }
    let (files, _) = kubeharden_engine::load::expand_paths(&[real]);
    let mut inputs = Vec::new();
    let mut texts = Vec::new();
    let mut bytes = 0;
    for f in &files {
        let b = std::fs::read(f).expect("corpus file");
        bytes += b.len();
        if let Ok(t) = std::str::from_utf8(&b) {
            texts.push(t.to_owned());
        }
        inputs.push(Input::Bytes {
            name: f.display().to_string(),
            bytes: Arc::from(b),
        });
    }
    let objects = scan::scan(&inputs, &[]).summary.objects;
    Some(Corpus {
        files,
        inputs,
        texts,
        bytes,
        objects,
    })
});

fn corpus() -> &'static Corpus {
    CORPUS.as_ref().expect("checked in main")
}

fn main() {
    match CORPUS.as_ref() {
        None => println!("skipped: corpus not found (set KUBEHARDEN_CORPUS)"),
        Some(c) => {
            println!(
                "corpus real/: {} files, {:.1} MB, {} objects, {} threads",
                c.files.len(),
                c.bytes as f64 / 1e6,
                c.objects,
                rayon::current_num_threads()
            );
            divan::main();
        }
    }
}

fn counters<'a, 'b>(bencher: Bencher<'a, 'b>) -> Bencher<'a, 'b> {
    let c = corpus();
    bencher
        .counter(BytesCount::new(c.bytes))
        .counter(ItemsCount::new(c.objects))
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn parse(bencher: Bencher) {
    let c = corpus();
    counters(bencher).bench(|| {
        c.texts
            .par_iter()
            .map(|t| yaml::parse_stream(t).len())
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn load(bencher: Bencher) {
    let c = corpus();
    counters(bencher).bench(|| {
        c.inputs
            .par_iter()
            .map(|i| i.load().objects.len())
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn scan_no_rules(bencher: Bencher) {
    let c = corpus();
    counters(bencher).bench(|| scan::scan(&c.inputs, &[]).summary.objects);
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn scan_all(bencher: Bencher) {
    let c = corpus();
    counters(bencher).bench(|| scan::scan_all(&c.inputs).findings.len());
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn scan_all_files(bencher: Bencher) {
    let c = corpus();
    let inputs: Vec<Input> = c.files.iter().cloned().map(Input::File).collect();
    counters(bencher).bench(|| scan::scan_all(&inputs).findings.len());
}
