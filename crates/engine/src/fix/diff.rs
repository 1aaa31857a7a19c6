//! Unified diffs of a fix, built from its splices rather than by comparing texts: the diff shows
//! exactly the lines the fix touches, in time linear in the file.

use super::edit::Edit;

/// A run of whole old lines replaced by new lines.
struct Change {
    /// Index of the first old line.
    old_start: usize,
    old: Vec<String>,
    new: Vec<String>,
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len() || i == 0)
        .collect()
}

fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_owned).collect()
}

/// The changes (whole lines) that `edits` (sorted, non-overlapping) make to `text`.
fn changes(text: &str, edits: &[Edit]) -> Vec<Change> {
    let starts = line_starts(text);
    let line_of = |pos: usize| match starts.binary_search(&pos) {
        Ok(i) => i,
        Err(i) => i - 1,
    };
    let line_end = |line: usize| starts.get(line + 1).copied().unwrap_or(text.len());
    // Each edit as a byte region of whole lines [from, to) and its new text.
    let mut regions: Vec<(usize, usize, Vec<&Edit>)> = Vec::new();
    for e in edits {
        let at_line_start = e.start == text.len() || starts.binary_search(&e.start).is_ok();
        let end_at_line_start = e.end == text.len() || starts.binary_search(&e.end).is_ok();
        let whole = at_line_start
            && end_at_line_start
            && (e.text.is_empty() || e.text.ends_with('\n'))
            && (e.end == e.start || text[..e.end].ends_with('\n') || e.end == text.len());
        let (from, to) = if whole {
            (e.start, e.end)
        } else {
            let first = line_of(e.start.min(text.len().saturating_sub(1)));
            let last = line_of(e.end.max(e.start + 1).min(text.len()) - 1);
            (starts[first.min(starts.len() - 1)], line_end(last))
        };
        match regions.last_mut() {
            Some((_, prev_to, group)) if from < *prev_to || (from == *prev_to && !whole) => {
                *prev_to = (*prev_to).max(to);
                group.push(e);
            }
            _ => regions.push((from, to, vec![e])),
        }
    }
    regions
        .into_iter()
        .map(|(from, to, group)| {
            let mut new = String::new();
            let mut at = from;
            for e in group {
                new.push_str(&text[at..e.start.max(at)]);
                new.push_str(&e.text);
                at = e.end.max(at);
            }
            new.push_str(&text[at..to]);
            Change {
                old_start: if from == text.len() {
                    starts.len() - usize::from(text.is_empty())
                } else {
                    line_of(from)
                },
                old: split_lines(&text[from..to]),
                new: split_lines(&new),
            }
        })
        .collect()
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// A unified diff (`--- a` / `+++ b`, 3 lines of context) of `edits` applied to `text`.
pub fn unified(text: &str, edits: &[Edit], old_name: &str, new_name: &str) -> String {
    const CONTEXT: usize = 3;
    let changes = changes(text, edits);
    if changes.is_empty() {
        return String::new();
    }
    let lines = split_lines(text);
    // Context lines that show a secret value are left out (a hunk then has less context, or is
    // split in two): the diff is printed and shared, and must apply with `patch` unchanged.
    let secret = crate::redact::secret_lines(text);
    let is_secret = |range: std::ops::Range<usize>| range.filter(|l| secret.get(*l) == Some(&true));
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    let mut i = 0;
    // Lines added minus lines removed before the current hunk.
    let mut delta: isize = 0;
    while i < changes.len() {
        // A hunk: changes whose unchanged gaps are at most 2 × CONTEXT lines (and show no secret).
        let mut j = i;
        while j + 1 < changes.len()
            && changes[j + 1].old_start <= changes[j].old_start + changes[j].old.len() + 2 * CONTEXT
            && is_secret(changes[j].old_start + changes[j].old.len()..changes[j + 1].old_start)
                .next()
                .is_none()
        {
            j += 1;
        }
        let first = changes[i].old_start;
        let last = changes[j].old_start + changes[j].old.len();
        let start = is_secret(first.saturating_sub(CONTEXT)..first)
            .next_back()
            .map_or(first.saturating_sub(CONTEXT), |l| l + 1);
        let end = (last + CONTEXT).min(lines.len());
        let end = is_secret(last..end).next().unwrap_or(end);
        let mut body = String::new();
        let (mut old_len, mut new_len) = (0usize, 0usize);
        let mut at = start;
        for c in &changes[i..=j] {
            for line in &lines[at..c.old_start] {
                push_line(&mut body, ' ', line);
                old_len += 1;
                new_len += 1;
            }
            for line in &c.old {
                push_line(&mut body, '-', line);
            }
            for line in &c.new {
                push_line(&mut body, '+', line);
            }
            old_len += c.old.len();
            new_len += c.new.len();
            at = c.old_start + c.old.len();
        }
        for line in &lines[at..end] {
            push_line(&mut body, ' ', line);
            old_len += 1;
            new_len += 1;
        }
        let new_start = start as isize + delta;
        let shown = |start: isize, len: usize| {
            if len == 0 {
                format!("{start},0")
            } else {
                format!("{},{len}", start + 1)
            }
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            shown(start as isize, old_len),
            shown(new_start, new_len)
        ));
        out.push_str(&body);
        delta += new_len as isize - old_len as isize;
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, text: &str) -> Edit {
        Edit::new(start, end, text)
    }

    #[test]
    fn insertion_of_whole_lines() {
        let text = "a\nb\nc\n";
        let d = unified(text, &[edit(2, 2, "x\n")], "a/f", "b/f");
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+x\n b\n c\n");
    }

    #[test]
    fn in_line_replacement_and_removal() {
        let text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
        let d = unified(text, &[edit(2, 3, "two"), edit(21, 24, "")], "a", "b");
        assert_eq!(
            d,
            "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -8,5 +8,4 @@\n 8\n 9\n 10\n-11\n 12\n"
        );
    }

    #[test]
    fn no_final_newline() {
        let text = "a\nb";
        let d = unified(text, &[edit(3, 3, "\nc")], "a", "b");
        assert_eq!(
            d,
            "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"
        );
    }
}
