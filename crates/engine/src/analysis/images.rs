//! Image references as the kubelet parses them (`[registry[:port]/][path/]name[:tag][@algo:digest]`).

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry host (`docker.io` when none is given).
    pub registry: &'a str,
    /// Repository path without registry and tag.
    pub repository: &'a str,
    /// The tag as written (None: no tag; the kubelet then pulls `latest` unless a digest is given).
    pub tag: Option<&'a str>,
    /// `sha256:…` digest, if pinned.
    pub digest: Option<&'a str>,
}

impl ImageRef<'_> {
    /// The tag that is effectively pulled when there is no digest: `latest` when none is written.
    pub fn effective_tag(&self) -> Option<&str> {
        if self.digest.is_some() {
            self.tag
        } else {
            Some(self.tag.unwrap_or("latest"))
        }
    }

    /// Pinned to immutable content.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some_and(|d| {
            d.strip_prefix("sha256:")
                .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                || d.strip_prefix("sha512:")
                    .is_some_and(|hex| hex.len() == 128)
        })
    }
}

/// Parses an image reference. Never fails: odd references parse as far as they go.
pub fn parse(image: &str) -> ImageRef<'_> {
    let image = image.trim();
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => (first, path),
        _ => ("docker.io", name),
    };
    ImageRef {
        registry,
        repository,
        tag,
        digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = parse("nginx");
        assert_eq!(
            (r.registry, r.repository, r.tag, r.effective_tag()),
            ("docker.io", "nginx", None, Some("latest"))
        );
        let r = parse("registry.local:5000/team/app:1.2");
        assert_eq!(
            (r.registry, r.repository, r.tag),
            ("registry.local:5000", "team/app", Some("1.2"))
        );
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let tagged = format!("ghcr.io/x/y:v1@{d}");
        let r = parse(&tagged);
        assert!(r.is_pinned());
        assert_eq!(r.tag, Some("v1"));
        let digest_only = format!("ghcr.io/x/y@{d}");
        let r = parse(&digest_only);
        assert_eq!(r.effective_tag(), None);
        assert!(!parse("x@sha256:short").is_pinned());
    }
}
