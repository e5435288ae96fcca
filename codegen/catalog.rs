//! Generates `src/catalog/generated/` (the accessors and the run-time entries) and
//! `tests/it/generated/catalog_accessors.rs` from `catalog/*.tsv`.
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
/// The default host, named in the docs of endpoints that do not list their own.
const DEFAULT_HOST: &str = "https://api.mch.weixin.qq.com/";

/// `addInstitutionsub` → `add_institutionsub`, `card-member` → `card_member`. Anything that
/// cannot be in an identifier becomes `_`; a leading digit gets a `_` before it, and a name of
/// underscores only an `n`.
fn snake(segment: &str) -> String {
    let mut out = String::new();
    for (i, c) in segment.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if out.chars().all(|c| c == '_') {
        out.insert(0, 'n');
    }
    out
}

/// `card-member` → `CardMember`; a leading digit gets an `N` before it.
fn pascal(segment: &str) -> String {
    let mut out = String::new();
    for word in snake(segment).split('_').filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// A name that is not a keyword: a raw identifier where Rust allows one, a trailing `_` elsewhere.
fn not_keyword(name: String, also_taken: &[&str]) -> String {
    if NOT_RAW.contains(&name.as_str()) || also_taken.contains(&name.as_str()) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// The names one path segment is known by, before collisions among siblings are resolved:
/// the accessor method on the parent, the type, and the module that holds its children's types.
/// `{name}` → `_name_()`, `ByName`, `by_name`; a trailing-slash path (empty segment) →
/// `_empty_()`, `Empty`, `empty`.
fn names(segment: &str) -> [String; 3] {
    if segment.is_empty() {
        return ["_empty_".into(), "Empty".into(), "empty".into()];
    }
    if let Some(var) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        return [
            format!("_{}_", snake(var)),
            format!("By{}", pascal(var)),
            format!("by_{}", snake(var)),
        ];
    }
    [
        not_keyword(snake(segment), NODE_METHODS),
        not_keyword(pascal(segment), &[]),
        not_keyword(snake(segment), &[]),
    ]
}

/// One endpoint that ends at a node.
#[derive(Debug, Clone)]
struct Endpoint {
    method: String,
    title: String,
    /// Space-separated, empty for the default host.
    hosts: String,
    request: String,
}

/// The path tree as the catalog lists it.
#[derive(Default)]
struct Raw {
    children: BTreeMap<String, Raw>,
    endpoints: Vec<Endpoint>,
}

/// A node of the path tree with every name it is known by, resolved once: the accessors, the
/// module tree and the generated test all read them from here.
#[derive(Debug)]
pub(crate) struct Node {
    segment: String,
    /// `v3/pay/transactions/native`.
    path: String,
    /// The call chain that reaches it: `client.v3().pay().transactions().native()`.
    call: String,
    /// The method on the parent.
    accessor: String,
    /// The type, in the module of its parent's children.
    type_name: String,
    /// The module that holds its children's types.
    module: String,
    endpoints: Vec<Endpoint>,
    children: Vec<Node>,
}

/// Adds `_` until `name` is not taken.
fn unique(taken: &mut BTreeSet<String>, mut name: String) -> String {
    while !taken.insert(name.clone()) {
        name.push('_');
    }
    name
}

fn resolve(segment: &str, path: String, call: String, resolved: [String; 3], raw: Raw) -> Node {
    let [accessor, type_name, module] = resolved;
    // Kebab (and other non-underscore) spellings keep the plain names; a literal-underscore twin
    // (`policy_periods` next to `policy-periods`) gets the trailing `_`.
    let mut ordered: Vec<(String, Raw)> = raw.children.into_iter().collect();
    ordered.sort_by_key(|(segment, _)| (segment.contains('_') && !segment.starts_with('{'), segment.clone()));
    let mut taken: [BTreeSet<String>; 3] = Default::default();
    let children = ordered
        .into_iter()
        .map(|(child, raw)| {
            let [a, t, m] = names(&child);
            let wanted = [
                unique(&mut taken[0], a),
                unique(&mut taken[1], t),
                unique(&mut taken[2], m),
            ];
            let child_path = if path.is_empty() {
                child.clone()
            } else {
                format!("{path}/{child}")
            };
            let child_call = format!("{call}.{}()", wanted[0]);
            resolve(&child, child_path, child_call, wanted, raw)
        })
        .collect();
    Node {
        segment: segment.to_owned(),
        path,
        call,
        accessor,
        type_name,
        module,
        endpoints: raw.endpoints,
        children,
    }
}

/// The catalog as a tree; its children are `v2` and `v3`.
pub(crate) fn tree(rows: &[Row]) -> Node {
    let mut root = Raw::default();
    for row in rows {
        let mut node = &mut root;
        for segment in row.path.split('/') {
            node = node.children.entry(segment.to_owned()).or_default();
        }
        node.endpoints.push(Endpoint {
            method: row.method.clone(),
            title: row.title.clone(),
            hosts: row.meta.get("host").cloned().unwrap_or_default(),
            request: row.meta.get("request").cloned().unwrap_or_default(),
        });
    }
    let names = [String::new(), String::new(), String::new()];
    resolve("", String::new(), "client".into(), names, root)
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

const HEADER: &str =
    "// @generated by codegen/catalog.rs from catalog/*.tsv — do not edit; see tests/catalog_codegen.rs\n";

/// `"` and `\` in a segment, for a string literal.
fn literal(segment: &str) -> String {
    format!("\"{}\"", escape(segment))
}

/// The one-line example on a node where endpoints end: its first method, with the path's
/// variables and the body its request kind takes.
fn example(node: &Node) -> String {
    let first = &node.endpoints[0];
    let mut options: Vec<String> = node
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|var| format!("\"{var}\": \"…\""))
        .collect();
    if first.method != "GET" && first.method != "DELETE" {
        match first.request.as_str() {
            "none" => {}
            // An upload's options come from `MediaUtil` (a path variable would need a JSON merge
            // this one line does not show, so those keep the variables only).
            "multipart" if options.is_empty() => {
                return format!("{}.{}(media.into_options())", node.call, first.method.to_lowercase());
            }
            "multipart" => {}
            "xml" => options.push("\"xml\": {…}".into()),
            _ => options.push("\"json\": {…}".into()),
        }
    }
    let options = if options.is_empty() {
        "()".to_owned()
    } else {
        format!("json!({{{}}})", options.join(", "))
    };
    format!("{}.{}({options})", node.call, first.method.to_lowercase())
}

/// The rustdoc of a node's type: its path, then each endpoint's method, title and host(s), then
/// an example call.
fn type_doc(out: &mut String, indent: &str, node: &Node) {
    let _ = writeln!(out, "{indent}/// `{}`", node.path);
    if node.endpoints.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}///");
    for endpoint in &node.endpoints {
        let hosts = if endpoint.hosts.is_empty() {
            DEFAULT_HOST.to_owned()
        } else {
            endpoint.hosts.replace(' ', "`, `")
        };
        let _ = writeln!(
            out,
            "{indent}/// - `{}` {} (`{hosts}`)",
            endpoint.method, endpoint.title
        );
    }
    let _ = writeln!(out, "{indent}///\n{indent}/// `{}`", example(node));
}

/// The rustdoc of an accessor method: the path, and what ends there.
fn accessor_doc(out: &mut String, indent: &str, node: &Node) {
    let ends: Vec<String> = node
        .endpoints
        .iter()
        .map(|e| format!("`{}` {}", e.method, e.title))
        .collect();
    if ends.is_empty() {
        let _ = writeln!(out, "{indent}/// `{}`", node.path);
    } else {
        let _ = writeln!(out, "{indent}/// `{}`: {}", node.path, ends.join("; "));
    }
}

/// A node's type, its verbs, and its accessors (whose types live in `node.module`).
fn emit_type(out: &mut String, indent: &str, node: &Node) {
    let name = &node.type_name;
    type_doc(out, indent, node);
    let _ = writeln!(out, "{indent}#[derive(Clone, Debug)]");
    let _ = writeln!(out, "{indent}pub struct {name}(pub(crate) crate::Chain);");
    let _ = writeln!(out, "{indent}node!({name});");
    if !node.endpoints.is_empty() {
        let verbs: BTreeSet<String> = node.endpoints.iter().map(|e| e.method.to_lowercase()).collect();
        let verbs: Vec<String> = verbs.into_iter().collect();
        let _ = writeln!(out, "{indent}verbs!({name}: {});", verbs.join(", "));
    }
    if node.children.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}impl {name} {{");
    for (i, child) in node.children.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        accessor_doc(out, &format!("{indent}    "), child);
        let ty = format!("{}::{}", node.module, child.type_name);
        // Laid out as rustfmt would (120 columns, call arguments up to 72), so `cargo fmt` leaves
        // the generated files alone.
        let signature = format!("{indent}    pub fn {}(&self) -> {ty} {{", child.accessor);
        if signature.len() <= 120 {
            let _ = writeln!(out, "{signature}");
        } else {
            let _ = writeln!(
                out,
                "{indent}    pub fn {}(\n{indent}        &self,\n{indent}    ) -> {ty} {{",
                child.accessor
            );
        }
        let argument = format!("self.0.chain({})", literal(&child.segment));
        let body = format!("{indent}        {ty}({argument})");
        if body.len() <= 120 && argument.len() <= 72 {
            let _ = writeln!(out, "{body}");
        } else {
            let _ = writeln!(
                out,
                "{indent}        {ty}(\n{indent}            {argument},\n{indent}        )"
            );
        }
        let _ = writeln!(out, "{indent}    }}");
    }
    let _ = writeln!(out, "{indent}}}");
}

/// The items of `node.module`: the types of `node`'s children, then the modules of theirs
/// (inline, or a `pub mod x;` line when `files` collects them into files of their own).
fn emit_module(out: &mut String, indent: &str, node: &Node, mut files: Option<&mut Vec<(String, String)>>) {
    for (i, child) in node.children.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        emit_type(out, indent, child);
    }
    for child in node.children.iter().filter(|c| !c.children.is_empty()) {
        out.push('\n');
        let _ = writeln!(out, "{indent}/// The nodes below `{}`.", child.path);
        match files.as_deref_mut() {
            Some(files) => {
                // `r#type` lives in `type.rs`; a `mod` segment cannot take `mod.rs`, the parent's.
                let file = match child.module.trim_start_matches("r#") {
                    "mod" => "mod_",
                    file => file,
                };
                if file != child.module {
                    let _ = writeln!(out, "{indent}#[path = \"{file}.rs\"]");
                }
                let _ = writeln!(out, "{indent}pub mod {};", child.module);
                let mut body = String::from(HEADER);
                body.push('\n');
                emit_module(&mut body, "", child, None);
                files.push((format!("{file}.rs"), body));
            }
            None => {
                let _ = writeln!(out, "{indent}pub mod {} {{", child.module);
                emit_module(out, &format!("{indent}    "), child, None);
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

/// The accessor sources, as (path under `src/catalog/generated/`, text):
/// - `roots.rs`, included by `accessors.rs`: the `V3` and `V2` types;
/// - `v3/mod.rs`, `v2/mod.rs`: the types one level below them (`accessors.rs` declares both);
/// - `v3/pay.rs`, …: one file per top-level segment, deeper levels as nested modules.
pub(crate) fn accessors(tree: &Node) -> Vec<(String, String)> {
    let mut roots = String::from(HEADER);
    let mut files = Vec::new();
    for version in &tree.children {
        roots.push('\n');
        emit_type(&mut roots, "", version);
        let mut below = Vec::new();
        let mut body = String::from(HEADER);
        body.push('\n');
        emit_module(&mut body, "", version, Some(&mut below));
        files.push((format!("{}/mod.rs", version.module), body));
        files.extend(
            below
                .into_iter()
                .map(|(file, text)| (format!("{}/{file}", version.module), text)),
        );
    }
    files.insert(0, ("roots.rs".to_owned(), roots));
    files
}

/// The nodes where endpoints end, in path order.
fn endpoints_of<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    if !node.endpoints.is_empty() {
        out.push(node);
    }
    for child in &node.children {
        endpoints_of(child, out);
    }
}

/// `tests/it/generated/catalog_accessors.rs` (included by `tests/it/catalog_accessors.rs`): every
/// endpoint, v3 and v2, through its accessor, against the emulator.
pub(crate) fn accessor_test(tree: &Node) -> String {
    let mut nodes = Vec::new();
    endpoints_of(tree, &mut nodes);
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = String::from(HEADER);
    out.push_str("\n#[test]\nfn every_endpoint_is_reachable_by_its_accessor() {\n    let check = Check::new();\n");
    for node in nodes {
        let methods: Vec<String> = node.endpoints.iter().map(|e| format!("\"{}\"", e.method)).collect();
        let calls: Vec<String> = node
            .endpoints
            .iter()
            .map(|e| format!("&|o: Value| {{ let _ = node.{}(o); }}", e.method.to_lowercase()))
            .collect();
        let _ = writeln!(
            out,
            "    {{ let node = check.{}; check.endpoint(node.path(), \"{}\", &[{}], &[{}]); }}",
            node.call,
            escape(&node.path),
            methods.join(", "),
            calls.join(", ")
        );
    }
    // Against the compiled catalog, not a number written here: a stale generated test fails.
    let _ = writeln!(out, "    check.finish(wechatpay::catalog::entries().len());\n}}");
    out
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
    let mut out = format!("{HEADER}\n");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The names `v3/{segment}` gets, with `siblings` beside it.
    fn named(segment: &str, siblings: &[&str]) -> (String, String, String) {
        let mut endpoints = String::from("version\tmethod\tpath\ttitle\n");
        for s in siblings.iter().chain([&segment]) {
            endpoints.push_str(&format!("v3\tGET\tv3/{s}/leaf\tt\n"));
        }
        let tree = tree(&rows(&endpoints, "version\tmethod\tpath\n"));
        let v3 = &tree.children[0];
        let node = v3.children.iter().find(|c| c.segment == segment).unwrap();
        (node.accessor.clone(), node.type_name.clone(), node.module.clone())
    }

    fn triple(a: &str, t: &str, m: &str) -> (String, String, String) {
        (a.to_owned(), t.to_owned(), m.to_owned())
    }

    #[test]
    fn every_segment_gets_valid_distinct_names() {
        assert_eq!(
            named("card-member", &[]),
            triple("card_member", "CardMember", "card_member")
        );
        assert_eq!(
            named("addInstitutionsub", &[]),
            triple("add_institutionsub", "AddInstitutionsub", "add_institutionsub")
        );
        assert_eq!(
            named("{out-trade-no}", &[]),
            triple("_out_trade_no_", "ByOutTradeNo", "by_out_trade_no")
        );
        assert_eq!(named("", &[]), triple("_empty_", "Empty", "empty"));
        assert_eq!(named("mod", &[]), triple("r#mod", "Mod", "r#mod"));
        assert_eq!(named("self", &[]), triple("self_", "Self_", "self_"));
        assert_eq!(named("delete", &[]), triple("delete_", "Delete", "delete"));
        assert_eq!(named("send", &[]), triple("send", "Send", "send"));
        assert_eq!(named("2fa", &[]), triple("_2fa", "N2fa", "_2fa"));
        assert_eq!(named("a.b~c", &[]), triple("a_b_c", "ABC", "a_b_c"));
        assert_eq!(named("-", &[]), triple("n_", "N", "n_"));
        // The literal-underscore twin of a kebab segment gets the trailing `_`, in all three.
        assert_eq!(named("a_b", &["a-b"]), triple("a_b_", "AB_", "a_b_"));
        assert_eq!(named("a-b", &["a_b"]), triple("a_b", "AB", "a_b"));
    }

    #[test]
    fn a_mod_segment_does_not_take_its_parents_file() {
        let endpoints = "version\tmethod\tpath\ttitle\nv3\tGET\tv3/mod/leaf\tt\n";
        let files = accessors(&tree(&rows(endpoints, "version\tmethod\tpath\n")));
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert!(
            names.contains(&"v3/mod_.rs") && names.contains(&"v3/mod.rs"),
            "{names:?}"
        );
        let parent = &files.iter().find(|(name, _)| name == "v3/mod.rs").unwrap().1;
        assert!(parent.contains("#[path = \"mod_.rs\"]\npub mod r#mod;"), "{parent}");
    }
}
