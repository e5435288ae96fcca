//! The generated catalog code is what `codegen/catalog.rs` makes from `catalog/*.tsv`.
//! `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen` rewrites it.

#[path = "../codegen/catalog.rs"]
mod catalog;

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generated_catalog_is_current() {
    let read = |name: &str| std::fs::read_to_string(root().join("catalog").join(name)).unwrap();
    let rows = catalog::rows(&read("endpoints.tsv"), &read("endpoint_meta.tsv"));
    assert_eq!(
        rows.len(),
        wechatpay::catalog::entries().len(),
        "the compiled catalog is not the one catalog/*.tsv describes"
    );
    let outputs = [
        ("src/catalog/generated/nodes.rs", catalog::nodes(&rows)),
        ("src/catalog/generated/entries.rs", catalog::entries(&rows)),
        ("tests/generated/catalog_accessors.rs", catalog::accessor_test(&rows)),
    ];
    let regenerate = std::env::var_os("WECHATPAY_REGENERATE").is_some();
    for (path, generated) in outputs {
        let file = root().join(path);
        if regenerate {
            std::fs::write(&file, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is stale: run `WECHATPAY_REGENERATE=1 cargo test --test catalog_codegen`"
        );
    }
}
