//! Every endpoint, v3 and v2, through its generated accessor: `path()` is the catalog path, and each
//! listed verb sends that method to that path (checked on what the emulator received). The test
//! body is generated (`codegen/catalog.rs`), so it covers exactly the catalog.

mod accessors_support;

use accessors_support::Check;

include!("generated/catalog_accessors.rs");
