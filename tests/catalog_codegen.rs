//! The generated catalog code is what `codegen/catalog.rs` makes from `catalog/*.tsv`.
//! `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen` rewrites it.

#[path = "../codegen/catalog.rs"]
mod catalog;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, relative to the crate root.
fn files_under(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(relative) = path.strip_prefix(root()) {
            out.insert(relative.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn generated_catalog_is_current() {
    let read = |name: &str| std::fs::read_to_string(root().join("catalog").join(name)).unwrap();
    let rows = catalog::rows(&read("endpoints.tsv"), &read("endpoint_meta.tsv"));
    let regenerate = std::env::var_os("WECHATPAY_REGENERATE").is_some();
    // When regenerating, the compiled catalog is the old one: rows may have been added or removed.
    if !regenerate {
        assert_eq!(
            rows.len(),
            wechatpay::catalog::entries().len(),
            "the compiled catalog is not the one catalog/*.tsv describes: run \
             `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen`"
        );
    }
    let tree = catalog::tree(&rows);
    let mut outputs: Vec<(String, String)> = catalog::accessors(&tree)
        .into_iter()
        .map(|(file, text)| (format!("src/catalog/generated/{file}"), text))
        .collect();
    outputs.push(("src/catalog/generated/entries.rs".into(), catalog::entries(&rows)));
    outputs.push((
        "tests/it/generated/catalog_accessors.rs".into(),
        catalog::accessor_test(&tree),
    ));

    let mut present = BTreeSet::new();
    files_under(&root().join("src/catalog/generated"), &mut present);
    files_under(&root().join("tests/it/generated"), &mut present);
    for (path, _) in &outputs {
        present.remove(path);
    }
    for stale in &present {
        if regenerate {
            std::fs::remove_file(root().join(stale)).unwrap();
        } else {
            panic!("{stale} is no longer generated: run `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen`");
        }
    }
    for (path, generated) in outputs {
        let file = root().join(&path);
        if regenerate {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is stale: run `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen`"
        );
    }
}
