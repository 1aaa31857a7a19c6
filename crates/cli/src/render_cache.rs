//! Renders of kustomizations kept on disk, keyed by everything the render reads.
//!
//! A render (`kustomize build DIR`) is a pure function of the files of its input tree, the
//! renderer and the options it runs with, so its output is stored under a SHA-256 of all of
//! them: the path and content of every file of the kustomization's directory and of every local
//! directory and file it references (transitively: bases, components, patches, generator files),
//! the renderer's path, size and modification time (an upgraded `kustomize` renders anew), the
//! options and kubeharden's version. Any change to any of them is a different key, so an entry is
//! never stale; there is no invalidation to get wrong. Renders that read the network
//! (`--allow-remote-bases` with a remote reference, `--kustomize-enable-helm`, which may pull
//! charts) are never cached: what they fetch is not in the key.
//!
//! The cache lives in `$XDG_CACHE_HOME/kubeharden/render` (else `~/.cache/kubeharden/render`);
//! `--no-cache` neither reads nor writes it. Entries are written to a temporary file and renamed,
//! so a concurrent or interrupted run never reads half an entry. Entries unused for 30 days are
//! removed when a new one is written.

use ring::digest::{Context, SHA256};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Most files one key may cover; a larger tree is not cached (hashing it would cost more than
/// it saves, and a kustomization root at the top of a huge tree is a mistake worth not hiding).
const MAX_TREE_FILES: usize = 20_000;
/// Most bytes one key may cover.
const MAX_TREE_BYTES: u64 = 256 * 1024 * 1024;
/// Entries not read for this long are removed.
const MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// The render cache: a directory, or nothing (`--no-cache`, no home directory).
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// The user's cache directory, when `enabled` and one can be named.
    pub fn new(enabled: bool) -> Cache {
        let dir = enabled.then(default_dir).flatten();
        Cache { dir }
    }

    /// A cache in `dir` (tests).
    #[cfg(test)]
    pub fn at(dir: PathBuf) -> Cache {
        Cache { dir: Some(dir) }
    }

    /// The key of a render of `files` (the whole input tree) by `renderer` with `options`, or
    /// `None` when it is not to be cached.
    pub fn key(&self, renderer: &Path, options: &str, files: &BTreeSet<PathBuf>) -> Option<Key> {
        self.dir.as_ref()?;
        if files.len() > MAX_TREE_FILES {
            return None;
        }
        let mut hash = Context::new(&SHA256);
        let mut field = |bytes: &[u8]| {
            hash.update(&(bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        field(b"kubeharden-render-1");
        field(env!("CARGO_PKG_VERSION").as_bytes());
        field(renderer.as_os_str().as_encoded_bytes());
        let meta = std::fs::metadata(renderer).ok()?;
        field(&meta.len().to_le_bytes());
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?;
        field(&mtime.as_nanos().to_le_bytes());
        field(options.as_bytes());
        let mut total = 0u64;
        for file in files {
            field(file.as_os_str().as_encoded_bytes());
            // A referenced path that is not there is part of the key too (kustomize fails on
            // it; creating it changes the render).
            match std::fs::read(file) {
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    if total > MAX_TREE_BYTES {
                        return None;
                    }
                    field(b"file");
                    field(&bytes);
                }
                Err(_) => field(b"absent"),
            }
        }
        let digest = hash.finish();
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Some(Key(hex))
    }

    /// The stored render for `key`: its output, or the one-line error of a render that failed.
    pub fn get(&self, key: &Key) -> Option<Result<Vec<u8>, String>> {
        let dir = self.dir.as_ref()?;
        let (path, found) = [("yaml", true), ("err", false)]
            .into_iter()
            .map(|(ext, ok)| (dir.join(format!("{}.{ext}", key.0)), ok))
            .find(|(p, _)| p.is_file())?;
        let bytes = std::fs::read(&path).ok()?;
        // Reading an entry marks it used, for the pruning of old entries.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(if found {
            Ok(bytes)
        } else {
            Err(String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    /// Stores a render's output, or the error of a render that ran and failed (a failure is as
    /// much a function of the input tree as an output: not rendering it again saves as much).
    /// Failures to write are ignored: the cache only saves time.
    pub fn put(&self, key: &Key, render: Result<&[u8], &str>) {
        let Some(dir) = &self.dir else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let (ext, bytes) = match render {
            Ok(bytes) => ("yaml", bytes),
            Err(message) => ("err", message.as_bytes()),
        };
        let path = dir.join(format!("{}.{ext}", key.0));
        let tmp = dir.join(format!(".{}.{}.tmp", key.0, std::process::id()));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
        if written.is_ok() && std::fs::rename(&tmp, &path).is_ok() {
            prune(dir);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// A cache key: the hex SHA-256 of a render's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kubeharden").join("render"))
}

/// Removes entries (and abandoned temporary files) not used for [`MAX_AGE`].
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > MAX_AGE);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Every file under `dir`, recursively (symbolic links to directories followed once each), in
/// `out`. Stops adding past [`MAX_TREE_FILES`] (the key then refuses the tree).
pub fn add_tree(dir: &Path, out: &mut BTreeSet<PathBuf>, seen: &mut BTreeSet<PathBuf>) {
    let Ok(canonical) = dir.canonicalize() else {
        return;
    };
    if !seen.insert(canonical) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() > MAX_TREE_FILES {
            return;
        }
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => add_tree(&path, out, seen),
            _ => {
                out.insert(path);
            }
        }
    }
}

/// `f` over `items` on one thread per core (at most one per item), results in the items' order:
/// renders are processes of their own, so this bounds how many run at once.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was taken by a worker"))
        .collect()
}

/// The path of `program` as the shell would find it on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        add_tree(dir, &mut files, &mut BTreeSet::new());
        files
    }

    #[test]
    fn parallel_map_keeps_the_order() {
        let items: Vec<u32> = (0..100).collect();
        assert_eq!(
            parallel_map(&items, |i| i * 2),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
        assert_eq!(parallel_map(&[] as &[u32], |i| *i), Vec::<u32>::new());
    }

    #[test]
    fn a_key_changes_with_any_file_of_the_tree_and_entries_read_back() {
        let tmp = std::env::temp_dir().join(format!("kh-render-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let app = tmp.join("app");
        std::fs::create_dir_all(app.join("base")).unwrap();
        std::fs::write(app.join("kustomization.yaml"), "resources: [base]\n").unwrap();
        std::fs::write(app.join("base/pod.yaml"), "kind: Pod\n").unwrap();
        let renderer = std::env::current_exe().unwrap();
        let cache = Cache::at(tmp.join("cache"));

        let first = cache.key(&renderer, "build", &tree(&app)).unwrap();
        assert_eq!(
            cache.key(&renderer, "build", &tree(&app)).unwrap(),
            first,
            "the same tree is the same key"
        );
        assert_ne!(
            cache
                .key(&renderer, "build --enable-helm", &tree(&app))
                .unwrap(),
            first
        );
        assert_eq!(cache.get(&first), None);
        cache.put(&first, Ok(b"kind: Pod\n"));
        assert_eq!(cache.get(&first), Some(Ok(b"kind: Pod\n".to_vec())));

        // One byte in a file two levels down is another key.
        std::fs::write(app.join("base/pod.yaml"), "kind: Pod \n").unwrap();
        let second = cache.key(&renderer, "build", &tree(&app)).unwrap();
        assert_ne!(second, first);
        assert_eq!(cache.get(&second), None);
        cache.put(&second, Err("`kustomize build app` failed: no such file"));
        assert_eq!(
            cache.get(&second),
            Some(Err("`kustomize build app` failed: no such file".to_owned()))
        );
        // A new file is another key.
        std::fs::write(app.join("base/extra.yaml"), "").unwrap();
        assert_ne!(cache.key(&renderer, "build", &tree(&app)).unwrap(), second);

        assert_eq!(Cache::new(false).key(&renderer, "build", &tree(&app)), None);
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
