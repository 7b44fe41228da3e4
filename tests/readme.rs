//! The README's second half is assembled from section files kept next to what they describe
//! (the CLI's, the C API's, the specialized kernels', the guarantees and the performance
//! report). This test fails when README.md and those files disagree; run it with
//! `CONV1X1_BLESS_README=1` to rewrite README.md from them:
//!
//! ```sh
//! CONV1X1_BLESS_README=1 cargo test --test readme
//! ```

use std::fs;

/// Everything in README.md after this line is generated.
const MARKER: &str = "<!-- sections below are assembled -->";

/// A section file, the heading it gets in the README, and whether its headings move one level
/// down (a file that stands alone starts at `#`; in the README it sits under a `##`).
struct Section {
    path: &'static str,
    title: &'static str,
    demote: bool,
}

const SECTIONS: &[Section] = &[
    Section {
        path: "cli/README.md",
        title: "## Command line: `conv1x1`",
        demote: false,
    },
    Section {
        path: "capi/README.md",
        title: "## From C and C++",
        demote: true,
    },
    Section {
        path: "kernels/README.md",
        title: "## Specialized kernels (kernels/)",
        demote: true,
    },
    Section {
        path: "docs/guarantees.md",
        title: "## Guarantees",
        demote: false,
    },
    Section {
        path: "docs/performance.md",
        title: "## Performance",
        demote: true,
    },
];

/// One section as it appears in the README: its first line replaced by the title, and its
/// headings demoted where asked. Lines inside code fences are left alone (a `#` there is a
/// shell comment, not a heading).
fn section(text: &str, s: &Section) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if i == 0 {
            assert!(
                line.starts_with('#'),
                "{} must start with a heading",
                s.path
            );
            out.push_str(s.title);
        } else if s.demote && !fenced && line.starts_with('#') {
            out.push('#');
            out.push_str(line);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(!fenced, "{}: unclosed code fence", s.path);
    out
}

fn assembled(root: &str, readme: &str) -> String {
    let head = readme
        .split_once(MARKER)
        .unwrap_or_else(|| panic!("README.md lost its marker line `{MARKER}`"))
        .0;
    let mut out = format!("{head}{MARKER}\n");
    for s in SECTIONS {
        let text = fs::read_to_string(format!("{root}/{}", s.path)).unwrap();
        out.push('\n');
        out.push_str(&section(&text, s));
    }
    out
}

#[test]
fn readme_is_assembled_from_its_sections() {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{root}/README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let expected = assembled(root, &readme);
    if std::env::var_os("CONV1X1_BLESS_README").is_some() {
        if expected != readme {
            fs::write(&path, &expected).unwrap();
        }
        return;
    }
    if expected != readme {
        let first = expected
            .lines()
            .zip(readme.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(readme.lines().count()));
        panic!(
            "README.md differs from its section files from line {} on; \
             run `CONV1X1_BLESS_README=1 cargo test --test readme`",
            first + 1
        );
    }
}

#[test]
fn demoting_skips_code_fences() {
    let s = Section {
        path: "x.md",
        title: "## X",
        demote: true,
    };
    let text = "# Old\n\n## Part\n\n```sh\n# a comment\n```\n";
    assert_eq!(
        section(text, &s),
        "## X\n\n### Part\n\n```sh\n# a comment\n```\n"
    );
}
