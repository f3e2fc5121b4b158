//! The page scripts: ES modules under `assets/js/`, served under hashed
//! names, with their import specifiers rewritten to those names.
//!
//! Each page loads one entry module (`<script type="module" src=…>`); the
//! entry `import`s what it uses, and each module `export`s what it offers
//! (no shared global, no order kept here). The browser resolves the imports
//! relative to the importing module, so `./api.js` in a module served as
//! `/assets/chat.1a2b….js` is rewritten to `./api.3c4d….js` when the
//! gateway starts.
//!
//! Why rewriting and not an import map: an import map is an inline
//! `<script type="importmap">` (browsers do not load one from `src`), so the
//! page's `Content-Security-Policy` would have to allow it by hash, and that
//! hash changes with every script. Rewriting keeps `script-src 'self'` with
//! no inline script at all, and the HTML names only the entry module.
//!
//! A module's hash covers its own source and the sources of every module it
//! reaches through imports. Its served text depends only on those (the
//! names of its imports are hashes of subsets of them), so a name never
//! stands for two different texts and may be cached for a year.
//!
//! The sources follow two rules, which the tests check: imports are static
//! statements whose specifier is a double-quoted `./<file>.js` of this
//! folder, on the line that starts with `import`, `export` or `}` (the end
//! of a multi-line import); and nothing is loaded with `import()`.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

/// One module as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ServedModule {
    /// Name under `/assets/`, with the content hash (`api.1a2b3c4d5e6f.js`).
    pub(super) file: String,
    /// The source with its import specifiers pointing at served names.
    pub(super) body: String,
}

/// Hash, name and rewrite every module of `sources` (file name, text).
pub(super) fn serve(
    sources: &[(&'static str, &'static str)],
) -> BTreeMap<&'static str, ServedModule> {
    let by_name: BTreeMap<&str, &str> = sources.iter().copied().collect();
    let files: BTreeMap<&'static str, String> = sources
        .iter()
        .map(|(name, _)| (*name, served_name(name, &by_name)))
        .collect();
    sources
        .iter()
        .map(|(name, source)| {
            let module = ServedModule {
                file: files[name].clone(),
                body: rewrite(source, &files),
            };
            (*name, module)
        })
        .collect()
}

/// `stem.<hash>.js`, the hash over everything `name` reaches.
fn served_name(name: &str, sources: &BTreeMap<&str, &str>) -> String {
    let mut hasher = Sha256::new();
    for reached in reachable(name, sources) {
        hasher.update(reached.as_bytes());
        hasher.update([0]);
        hasher.update(sources.get(reached).copied().unwrap_or_default().as_bytes());
        hasher.update([0]);
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let stem = name.strip_suffix(".js").unwrap_or(name);
    format!("{stem}.{hash}.js")
}

/// `name` and every module it imports, directly or not (cycles end the
/// walk instead of looping), in name order.
fn reachable<'a>(name: &'a str, sources: &BTreeMap<&'a str, &'a str>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name];
    while let Some(next) = todo.pop() {
        if !seen.insert(next) {
            continue;
        }
        if let Some(source) = sources.get(next) {
            todo.extend(
                imports(source)
                    .filter_map(|spec| spec.strip_prefix("./"))
                    .filter_map(|file| sources.get_key_value(file).map(|(k, _)| *k)),
            );
        }
    }
    seen
}

/// The import specifiers of a module's source, as written.
pub(super) fn imports(source: &str) -> impl Iterator<Item = &str> {
    source.lines().filter_map(specifier)
}

/// The specifier of an import or re-export statement line, if it is one.
fn specifier(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let statement =
        line.starts_with("import ") || line.starts_with("export ") || line.starts_with('}');
    if !statement {
        return None;
    }
    let spec = if let Some((_, rest)) = line.rsplit_once(" from \"") {
        rest
    } else {
        line.strip_prefix("import \"")?
    };
    spec.split_once('"').map(|(spec, _)| spec)
}

/// `source` with each `./<file>.js` specifier of a known module replaced by
/// that module's served name. Other lines stay as they are.
fn rewrite(source: &str, files: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(source.len() + 64);
    for line in source.split_inclusive('\n') {
        let served = specifier(line).and_then(|spec| {
            let file = files.get(spec.strip_prefix("./")?)?;
            Some((spec, file))
        });
        match served {
            Some((spec, file)) => {
                let quoted = format!("\"{spec}\"");
                out.push_str(&line.replacen(&quoted, &format!("\"./{file}\""), 1));
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "import { b } from \"./b.js\";\nexport const a = b + 1;\n";
    const B: &str = "import {\n  c,\n} from \"./c.js\";\nexport const b = c;\n";
    const C: &str = "// a comment that says import \"./a.js\"\nexport const c = 1;\n";

    fn served(c: &'static str) -> BTreeMap<&'static str, ServedModule> {
        serve(&[("a.js", A), ("b.js", B), ("c.js", c)])
    }

    #[test]
    fn statements_name_their_specifiers() {
        assert_eq!(imports(A).collect::<Vec<_>>(), ["./b.js"]);
        assert_eq!(imports(B).collect::<Vec<_>>(), ["./c.js"]);
        assert_eq!(imports(C).count(), 0);
        assert_eq!(specifier("import \"./side.js\";"), Some("./side.js"));
        assert_eq!(specifier("export { x } from \"./x.js\";"), Some("./x.js"));
        assert_eq!(specifier("const s = \"from \\\"./x.js\\\"\";"), None);
    }

    #[test]
    fn imports_point_at_the_served_names() {
        let m = served(C);
        let b_file = &m["b.js"].file;
        assert!(
            b_file.starts_with("b.") && b_file.ends_with(".js"),
            "{b_file}"
        );
        assert_eq!(b_file.len(), "b.".len() + 12 + ".js".len());
        assert_eq!(
            m["a.js"].body,
            format!("import {{ b }} from \"./{b_file}\";\nexport const a = b + 1;\n")
        );
        assert!(
            m["b.js"]
                .body
                .contains(&format!("}} from \"./{}\";", m["c.js"].file))
        );
        assert_eq!(m["c.js"].body, C, "a comment is not an import");
    }

    #[test]
    fn a_change_renames_the_module_and_everything_that_reaches_it() {
        let before = served(C);
        let after = served("export const c = 2;\n");
        for name in ["a.js", "b.js", "c.js"] {
            assert_ne!(before[name].file, after[name].file, "{name}");
        }
        let unrelated = serve(&[("a.js", A), ("b.js", "export const b = 0;\n"), ("c.js", C)]);
        assert_eq!(unrelated["c.js"].file, before["c.js"].file);
        assert_ne!(unrelated["a.js"].file, before["a.js"].file);
    }

    #[test]
    fn a_cycle_still_gets_names() {
        let m = serve(&[
            (
                "x.js",
                "import { y } from \"./y.js\";\nexport const x = 1;\n",
            ),
            (
                "y.js",
                "import { x } from \"./x.js\";\nexport const y = 2;\n",
            ),
        ]);
        assert!(m["x.js"].body.contains(&m["y.js"].file));
        assert!(m["y.js"].body.contains(&m["x.js"].file));
    }
}
