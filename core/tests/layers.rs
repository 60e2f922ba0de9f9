//! The layer rule of `core/src`: each folder is a layer and imports only the
//! layers below it. The one exception is the speed paths (`fastpath`), which
//! the reactor calls into while `fastpath` drives the reactor's loop (see
//! `core/src/fastpath/mod.rs` and `docs/architecture.md`).
//!
//! The test reads every file's paths (`use crate::...`, `crate::x::y` anywhere
//! in code, `super::` where it leaves a folder), skipping comments, and fails
//! naming the file, the line and the import. It also bounds the groups of
//! files that import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom up. `root` is `lib.rs` and the public facade
/// `server.rs`, which may import everything.
const LAYERS: [&str; 9] = [
    "http",
    "protocol",
    "transport",
    "bridge",
    "reactor",
    "fastpath",
    "api",
    "control",
    "root",
];

/// The one pair of layers allowed to import each other: the reactor calls the
/// speed paths (direct replies, buffer pools, the inline driver it holds), and
/// they drive the reactor's loop.
const EXCEPTION: (&str, &str) = ("reactor", "fastpath");

/// The largest group of files allowed to import each other in a circle.
const MAX_CYCLE: usize = 4;

/// One reference from a file to a module path.
#[derive(Debug, Clone)]
struct Import {
    /// The importing file, relative to `src`.
    file: String,
    line: usize,
    /// The path as written after `crate::` (or resolved from `super::`).
    path: Vec<String>,
}

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// The layer of a file: its first folder, or `root` for files directly in `src`.
fn layer_of(file: &str) -> String {
    match file.split_once('/') {
        Some((folder, _)) => folder.to_owned(),
        None => "root".to_owned(),
    }
}

/// The source with comments blanked out (line structure kept), so that paths
/// in documentation do not count. String literals are kept as they are.
fn strip_comments(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let mut depth = 0usize;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if depth > 0 {
            if c == b'*' && next == Some(b'/') {
                depth -= 1;
                i += 2;
            } else if c == b'/' && next == Some(b'*') {
                depth += 1;
                i += 2;
            } else {
                if c == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            continue;
        }
        if in_string {
            if c == b'\\' {
                out.push_str(&source[i..i + 2.min(bytes.len() - i)]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if c == b'\'' && next.is_some_and(|n| n != b'\\') && bytes.get(i + 2) == Some(&b'\'')
        {
            // A char literal such as '"': copy it whole.
            out.push_str(&source[i..i + 3]);
            i += 3;
            continue;
        } else if c == b'/' && next == Some(b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c == b'/' && next == Some(b'*') {
            depth = 1;
            i += 2;
            continue;
        }
        let len = source[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&source[i..i + len]);
        i += len;
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The path segments written after `at` in `line` (`a::b::c`), up to the first
/// character that is not part of a path. `{` ends it and is reported as `{`.
fn path_after(line: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = line;
    loop {
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if end == 0 {
            if rest.starts_with('{') {
                segments.push("{".to_owned());
            }
            break;
        }
        segments.push(rest[..end].to_owned());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    segments
}

/// Every module path `file` (relative to `src`) refers to.
fn imports_of(file: &str, source: &str) -> Vec<Import> {
    let code = strip_comments(source);
    let folder: Vec<&str> = {
        let mut parts: Vec<&str> = file.split('/').collect();
        parts.pop();
        parts
    };
    let is_mod = file.ends_with("/mod.rs") || file == "lib.rs";
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut search = 0;
        while let Some(pos) = line[search..].find("crate::") {
            let at = search + pos;
            search = at + "crate::".len();
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == '$' || c == ':') {
                continue;
            }
            found.push(Import {
                file: file.to_owned(),
                line: n + 1,
                path: path_after(&line[search..]),
            });
        }
        let mut search = 0;
        while let Some(pos) = line[search..].find("super::") {
            let at = search + pos;
            search = at + "super::".len();
            if line[..at].chars().next_back().is_some_and(is_ident) || line[..at].ends_with("::") {
                continue;
            }
            let mut path = path_after(&line[search..]);
            if path.first().is_some_and(|s| s == "*") || path.is_empty() {
                continue; // a test module's `use super::*`: its own file
            }
            // `super` of a file is its folder; of a folder's `mod.rs`, the folder above.
            let mut base: Vec<String> = folder.iter().map(|s| (*s).to_owned()).collect();
            if is_mod {
                base.pop();
            }
            while path.first().is_some_and(|s| s == "super") {
                path.remove(0);
                base.pop();
            }
            base.extend(path);
            found.push(Import {
                file: file.to_owned(),
                line: n + 1,
                path: base,
            });
        }
    }
    found
}

/// The layer rule over `imports`: returns one message per violation.
fn violations(imports: &[Import]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut edges: BTreeMap<(String, String), &Import> = BTreeMap::new();
    for import in imports {
        let from = layer_of(&import.file);
        let Some(first) = import.path.first() else {
            continue;
        };
        if first == "{" {
            problems.push(format!(
                "{}:{}: `crate::{{...}}` groups several layers in one import; write one `use` per layer",
                import.file, import.line
            ));
            continue;
        }
        let to = if import.path.is_empty() {
            "root".to_owned()
        } else if rank(first).is_some() && first != "root" {
            first.clone()
        } else if first == "server" {
            "root".to_owned()
        } else {
            problems.push(format!(
                "{}:{}: crate::{} is in no known layer (add the folder to LAYERS in core/tests/layers.rs)",
                import.file,
                import.line,
                import.path.join("::")
            ));
            continue;
        };
        let (Some(rf), Some(rt)) = (rank(&from), rank(&to)) else {
            problems.push(format!(
                "{}: the folder {from} is in no known layer (add it to LAYERS in core/tests/layers.rs)",
                import.file
            ));
            continue;
        };
        if from == to {
            continue;
        }
        if rt > rf && (from.as_str(), to.as_str()) != EXCEPTION {
            problems.push(format!(
                "{}:{}: layer {from} imports crate::{} from layer {to}, which is above it",
                import.file,
                import.line,
                import.path.join("::")
            ));
        }
        edges.entry((from, to)).or_insert(import);
    }
    for ((from, to), import) in &edges {
        let back = edges.get(&(to.clone(), from.clone()));
        let allowed =
            (from.as_str(), to.as_str()) == EXCEPTION || (to.as_str(), from.as_str()) == EXCEPTION;
        if let (Some(back), false, true) = (back, allowed, from < to) {
            problems.push(format!(
                "folders {from} and {to} import each other: {}:{} imports crate::{}, {}:{} imports crate::{}",
                import.file,
                import.line,
                import.path.join("::"),
                back.file,
                back.line,
                back.path.join("::")
            ));
        }
    }
    problems
}

/// The file a module path lives in: the longest prefix of `path` that names a
/// file under `src` (`a/b.rs` or `a/b/mod.rs`).
fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
    for len in (1..=path.len()).rev() {
        let stem = path[..len].join("/");
        for candidate in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
            if files.contains(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// The groups of files that import each other in a circle (strongly connected
/// components of more than one file), largest first.
fn file_cycles(imports: &[Import], files: &BTreeSet<String>) -> Vec<Vec<String>> {
    let names: Vec<&String> = files.iter().collect();
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let mut graph = vec![BTreeSet::new(); names.len()];
    for import in imports {
        let (Some(&from), Some(to)) = (index.get(&import.file), file_of(&import.path, files))
        else {
            continue;
        };
        if let Some(&to) = index.get(&to) {
            if to != from {
                graph[from].insert(to);
            }
        }
    }
    // Tarjan's algorithm, iterative.
    let n = names.len();
    let mut order = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut counter = 0;
    let mut groups = Vec::new();
    for start in 0..n {
        if order[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
        order[start] = counter;
        low[start] = counter;
        counter += 1;
        stack.push(start);
        on_stack[start] = true;
        work.push((start, graph[start].iter().copied().collect()));
        while let Some((v, pending)) = work.last_mut() {
            let v = *v;
            if let Some(w) = pending.pop() {
                if order[w] == usize::MAX {
                    order[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, graph[w].iter().copied().collect()));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == order[v] {
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    group.push(names[w].clone());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    groups.push(group);
                }
            }
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            out.push((rel, text));
        }
    }
}

fn all_imports() -> (Vec<Import>, BTreeSet<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &root, &mut files);
    let names = files.iter().map(|(f, _)| f.clone()).collect();
    let imports = files.iter().flat_map(|(f, s)| imports_of(f, s)).collect();
    (imports, names)
}

#[test]
fn every_layer_imports_only_layers_below_it() {
    let (imports, _) = all_imports();
    let problems = violations(&imports);
    assert!(
        problems.is_empty(),
        "layer rule broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_large_circle_of_files() {
    let (imports, files) = all_imports();
    let cycles = file_cycles(&imports, &files);
    let too_large: Vec<_> = cycles.iter().filter(|g| g.len() > MAX_CYCLE).collect();
    assert!(
        too_large.is_empty(),
        "files that import each other in a circle of more than {MAX_CYCLE}: {too_large:?}"
    );
}

#[test]
fn the_reader_finds_the_imports() {
    let (imports, files) = all_imports();
    // Every layer is found, and so are the edges between them.
    let layers: BTreeSet<String> = files.iter().map(|f| layer_of(f)).collect();
    for layer in LAYERS {
        assert!(layers.contains(layer), "no file in layer {layer}");
    }
    assert!(imports.len() > 150, "only {} imports found", imports.len());
    let edges: BTreeSet<(String, String)> = imports
        .iter()
        .filter_map(|i| Some((layer_of(&i.file), i.path.first()?.clone())))
        .filter(|(from, to)| from != to)
        .collect();
    eprintln!(
        "DEBUG {edges:?} {:?} {}",
        file_cycles(&imports, &files),
        imports.len()
    );
    assert!(
        edges.len() >= 12,
        "only {} layer edges: {edges:?}",
        edges.len()
    );
    assert!(edges.contains(&("reactor".to_owned(), "bridge".to_owned())));
    assert!(edges.contains(&("api".to_owned(), "reactor".to_owned())));
    // The exception is really used (else it should go).
    assert!(edges.contains(&("reactor".to_owned(), "fastpath".to_owned())));
    assert!(edges.contains(&("fastpath".to_owned(), "reactor".to_owned())));
}

#[test]
fn an_upward_import_is_flagged() {
    let source = "use std::io;\n\
                  // use crate::api::Handle; (a comment: not counted)\n\
                  /* crate::api::Config */\n\
                  use crate::bridge::id::ConnId;\n\
                  fn f() { let _ = crate::api::handle::Handle::wait; }\n";
    let imports = imports_of("reactor/example.rs", source);
    assert_eq!(imports.len(), 2, "{imports:?}");
    let problems = violations(&imports);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("reactor/example.rs:5") && problems[0].contains("crate::api::handle"),
        "{}",
        problems[0]
    );
    // `super::` leaving a folder counts too, and so does a pair importing each other.
    let from_mod = imports_of("bridge/mod.rs", "use super::api::Config;\n");
    assert_eq!(from_mod[0].path, ["api", "Config"]);
    let pair = [
        imports_of("http/a.rs", "use crate::protocol::frame;\n"),
        imports_of("protocol/b.rs", "use crate::http::Request;\n"),
    ]
    .concat();
    let problems = violations(&pair);
    assert!(
        problems.iter().any(|p| p.contains("import each other")),
        "{problems:?}"
    );
    // A new folder must be placed in the order before it is used.
    let unknown = imports_of("reactor/c.rs", "use crate::polling::Session;\n");
    assert!(violations(&unknown)[0].contains("no known layer"));
}

#[test]
fn a_circle_of_files_is_found() {
    let files: BTreeSet<String> = ["bridge/a.rs", "bridge/b.rs", "bridge/c.rs"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let imports = [
        imports_of("bridge/a.rs", "use super::b::X;\n"),
        imports_of("bridge/b.rs", "use crate::bridge::c::Y;\n"),
        imports_of("bridge/c.rs", "use super::a::Z;\n"),
    ]
    .concat();
    let cycles = file_cycles(&imports, &files);
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].len(), 3);
}
