//! Generates `src/catalog/generated/{nodes,entries}.rs` from `catalog/*.tsv`.
//!
//! Run by `tests/catalog_codegen.rs`: it fails when the committed files differ from what this
//! produces, and rewrites them when `WECHATPAY_REGENERATE=1` is set. Pure functions, std only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One row of the catalog, joined across its files.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub version: String,
    pub method: String,
    pub path: String,
    pub title: String,
    pub meta: BTreeMap<String, String>,
}

fn table(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            header
                .iter()
                .zip(line.split('\t').chain(std::iter::repeat("")))
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// Joins `endpoints.tsv` (titles) and `endpoint_meta.tsv` (run-time facts) on version, method, path.
pub(crate) fn rows(endpoints: &str, meta: &str) -> Vec<Row> {
    let meta: BTreeMap<(String, String, String), BTreeMap<String, String>> = table(meta)
        .into_iter()
        .map(|r| ((r["version"].clone(), r["method"].clone(), r["path"].clone()), r))
        .collect();
    table(endpoints)
        .into_iter()
        .map(|r| {
            let key = (r["version"].clone(), r["method"].clone(), r["path"].clone());
            Row {
                meta: meta.get(&key).cloned().unwrap_or_default(),
                version: key.0,
                method: key.1,
                path: key.2,
                title: r["title"].clone(),
            }
        })
        .collect()
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let",
    "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type",
    "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];
/// Cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "super", "crate", "Self"];
/// Taken by the methods every node has.
const NODE_METHODS: &[&str] = &[
    "get",
    "put",
    "post",
    "patch",
    "delete",
    "get_async",
    "put_async",
    "post_async",
    "patch_async",
    "delete_async",
    "chain",
    "seg",
    "path",
    "as_chain",
    "request",
    "request_async",
];

fn snake(segment: &str) -> String {
    let mut out = String::new();
    for (i, c) in segment.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

fn pascal(segment: &str) -> String {
    if segment.is_empty() {
        return "Empty".into();
    }
    let (prefix, body) = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(var) => ("By", var),
        None => ("", segment),
    };
    let mut out = String::from(prefix);
    for word in snake(body).split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// The accessor for a segment, before collisions are resolved.
pub(crate) fn accessor(segment: &str) -> String {
    if segment.is_empty() {
        return "_empty_".into();
    }
    if let Some(var) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        return format!("_{var}_");
    }
    let name = snake(segment);
    if NOT_RAW.contains(&name.as_str()) || NODE_METHODS.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

#[derive(Default)]
struct Node {
    children: BTreeMap<String, Node>,
    /// (method, title, hosts) of endpoints that end here.
    endpoints: Vec<(String, String, String)>,
}

fn doc_lines(out: &mut String, indent: &str, path: &str, node: &Node) {
    let _ = writeln!(out, "{indent}/// `{path}`");
    if !node.endpoints.is_empty() {
        let _ = writeln!(out, "{indent}///");
    }
    for (method, title, host) in &node.endpoints {
        let host = if host.is_empty() {
            "https://api.mch.weixin.qq.com/".to_owned()
        } else {
            host.replace(' ', "`, `")
        };
        let _ = writeln!(out, "{indent}/// - `{method}` {title} (`{host}`)");
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `nodes.rs`: one type per catalog prefix under `v3` and `v2`, accessors for real continuations,
/// verbs on the nodes where endpoints end.
pub(crate) fn nodes(rows: &[Row]) -> String {
    let mut root = Node::default();
    for row in rows {
        let mut node = &mut root;
        for segment in row.path.split('/') {
            node = node.children.entry(segment.to_owned()).or_default();
        }
        node.endpoints.push((
            row.method.clone(),
            row.title.clone(),
            row.meta.get("host").cloned().unwrap_or_default(),
        ));
    }
    let mut out = String::from(
        "// @generated by codegen/catalog.rs from catalog/*.tsv — do not edit; see tests/catalog_codegen.rs\n\n",
    );
    let mut used_types = BTreeSet::new();
    for (version, type_name) in [("v3", "V3"), ("v2", "V2")] {
        if let Some(node) = root.children.get(version) {
            emit(&mut out, &mut used_types, version, type_name, node);
        }
    }
    out
}

fn unique(used: &mut BTreeSet<String>, wanted: String) -> String {
    let mut name = wanted.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{wanted}{n}");
        n += 1;
    }
    name
}

fn emit(out: &mut String, used: &mut BTreeSet<String>, path: &str, type_name: &str, node: &Node) -> String {
    let type_name = unique(used, type_name.to_owned());
    // Children first get their names: accessors must be unique within the parent.
    let mut accessors = BTreeSet::new();
    let mut children = Vec::new();
    // Kebab (and other non-underscore) spellings keep the plain name; a literal-underscore twin
    // (`policy_periods` next to `policy-periods`) gets the trailing `_`.
    let mut ordered: Vec<(&String, &Node)> = node.children.iter().collect();
    ordered.sort_by_key(|(segment, _)| (segment.contains('_') && !segment.starts_with('{'), (*segment).clone()));
    for (segment, child) in ordered {
        let mut name = accessor(segment);
        while !accessors.insert(name.clone()) {
            name.push('_');
        }
        let child_path = format!("{path}/{segment}");
        let child_type = emit(
            out,
            used,
            &child_path,
            &format!("{type_name}{}", pascal(segment)),
            child,
        );
        children.push((segment.clone(), name, child_type, child_path, child));
    }
    doc_lines(out, "", path, node);
    let _ = writeln!(
        out,
        "#[derive(Clone, Debug)]\npub struct {type_name}(pub(crate) Chain);\nnode!({type_name});"
    );
    if !node.endpoints.is_empty() {
        let methods: BTreeSet<String> = node.endpoints.iter().map(|(m, _, _)| m.to_lowercase()).collect();
        let verbs: Vec<String> = methods.into_iter().collect();
        let _ = writeln!(out, "verbs!({type_name}: {});", verbs.join(", "));
    }
    if !children.is_empty() {
        let _ = writeln!(out, "impl {type_name} {{");
        for (segment, name, child_type, child_path, child) in &children {
            doc_lines(out, "    ", child_path, child);
            let _ = writeln!(
                out,
                "    pub fn {name}(&self) -> {child_type} {{\n        {child_type}(self.0.chain(\"{}\"))\n    }}",
                escape(segment)
            );
        }
        let _ = writeln!(out, "}}");
    }
    out.push('\n');
    type_name
}

fn list(text: Option<&String>) -> String {
    let items: Vec<String> = text
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| format!("\"{}\"", escape(s)))
        .collect();
    format!("&[{}]", items.join(", "))
}

/// `entries.rs`: the run-time metadata of every endpoint, v2 included.
pub(crate) fn entries(rows: &[Row]) -> String {
    let mut out = String::from(
        "// @generated by codegen/catalog.rs from catalog/*.tsv — do not edit; see tests/catalog_codegen.rs\n\n",
    );
    let _ = writeln!(out, "pub(crate) static ENTRIES: &[Entry] = &[");
    for row in rows {
        let m = |k: &str| row.meta.get(k).cloned().unwrap_or_default();
        let response = match m("response").as_str() {
            "download" => "Download",
            "statement-sha1" => "StatementSha1",
            "redirect" => "Redirect",
            "xml" => "Xml",
            _ => "Json",
        };
        let request = match m("request").as_str() {
            "none" => "None",
            "multipart" => "Multipart",
            "xml" => "Xml",
            _ => "Json",
        };
        let _ = writeln!(
            out,
            "    Entry {{ version: \"{}\", method: \"{}\", path: \"{}\", title: \"{}\", hosts: {}, wechatpay_serial: {}, encrypted_fields: {}, rate_limit: \"{}\", rate_dim: \"{}\", response: ResponseKind::{response}, request: RequestKind::{request}, idempotency_key: {}, v2_security: {}, v2_nosign_response: {}, encrypted_query: {}, form_fields: {} }},",
            row.version,
            row.method,
            escape(&row.path),
            escape(&row.title),
            list(row.meta.get("host")),
            m("wechatpay_serial") == "required",
            list(row.meta.get("encrypted_fields")),
            escape(&m("rate_limit")),
            escape(&m("rate_dim")),
            m("idempotency_key") == "yes",
            m("v2_security") == "yes",
            m("v2_nosign_response") == "yes",
            list(row.meta.get("encrypted_query")),
            list(row.meta.get("form_fields")),
        );
    }
    let _ = writeln!(out, "];");
    out
}

/// The accessor call chain for a v3 path: `.v3().pay().transactions()`.
fn accessor_chain(path: &str, siblings: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut out = String::new();
    let mut parent = String::new();
    for segment in path.split('/') {
        let names = siblings.get(&parent).cloned().unwrap_or_default();
        // Resolve as `emit` does: non-underscore spellings first, then `_` until unique.
        let mut ordered: Vec<&String> = names.iter().collect();
        ordered.sort_by_key(|s| (s.contains('_') && !s.starts_with('{'), (*s).clone()));
        let mut taken = BTreeSet::new();
        let mut chosen = String::new();
        for sibling in ordered {
            let mut name = accessor(sibling);
            while !taken.insert(name.clone()) {
                name.push('_');
            }
            if sibling == segment {
                chosen = name;
            }
        }
        let _ = write!(out, ".{chosen}()");
        parent = if parent.is_empty() {
            segment.to_owned()
        } else {
            format!("{parent}/{segment}")
        };
    }
    out
}

/// `tests/generated/catalog_accessors.rs` (included by `tests/catalog_accessors.rs`): every
/// endpoint, v3 and v2, through its accessor, against the emulator.
pub(crate) fn accessor_test(rows: &[Row]) -> String {
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let mut parent = String::new();
        for segment in row.path.split('/') {
            siblings.entry(parent.clone()).or_default().insert(segment.to_owned());
            parent = if parent.is_empty() {
                segment.to_owned()
            } else {
                format!("{parent}/{segment}")
            };
        }
    }
    let mut by_path: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for row in rows {
        by_path.entry(&row.path).or_default().push(row.method.to_lowercase());
    }
    let mut out = String::from(
        "// @generated by codegen/catalog.rs from catalog/*.tsv — do not edit; see tests/catalog_codegen.rs\n\n\
         #[test]\nfn every_endpoint_is_reachable_by_its_accessor() {\n    let check = Check::new();\n",
    );
    for (path, verbs) in &by_path {
        let chain = accessor_chain(path, &siblings);
        let calls: Vec<String> = verbs
            .iter()
            .map(|v| format!("&|o: serde_json::Value| {{ let _ = node.{v}(o); }}"))
            .collect();
        let _ = writeln!(
            out,
            "    {{ let node = check.client{chain}; check.endpoint(node.path(), \"{}\", &[{}], &[{}]); }}",
            escape(path),
            verbs
                .iter()
                .map(|v| format!("\"{}\"", v.to_uppercase()))
                .collect::<Vec<_>>()
                .join(", "),
            calls.join(", ")
        );
    }
    // Against the compiled catalog, not a number written here: a stale generated test fails.
    let _ = writeln!(out, "    check.finish(wechatpay::catalog::entries().len());\n}}");
    out
}
