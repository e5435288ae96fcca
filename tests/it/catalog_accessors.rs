//! Every endpoint, v3 and v2, through its generated accessor: `path()` is the catalog path, and each
//! listed verb sends that method to that path (checked on what the emulator received). The test
//! body is generated (`codegen/catalog.rs`), so it covers exactly the catalog.

use std::cell::Cell;

use serde_json::{Map, Value};
use wechatpay::emulator::Emulator;

pub(crate) struct Check {
    pub client: wechatpay::Client,
    emulator: Emulator,
    calls: Cell<usize>,
}

/// `{name}` → `v-name`, the value the check fills every variable with.
fn expand(template: &str) -> (String, Value) {
    let mut variables = Map::new();
    let mut path = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').unwrap() + open;
        let name = &rest[open + 1..close];
        variables.insert(name.to_owned(), Value::String(format!("v-{name}")));
        path.push_str(&rest[..open]);
        path.push_str(&format!("v-{name}"));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    (path, Value::Object(variables))
}

impl Check {
    pub(crate) fn new() -> Self {
        let emulator = Emulator::start().unwrap();
        // With the merchant certificate, so APIv2 `security` endpoints are sent too (over plain
        // HTTP to the emulator).
        let identity = emulator.identity().clone();
        let client = emulator
            .client_builder()
            .merchant_tls(
                identity.merchant.certificate().unwrap().clone(),
                identity.merchant.private_key().clone(),
            )
            .build()
            .unwrap();
        Self {
            client,
            emulator,
            calls: Cell::new(0),
        }
    }

    /// `path` is the accessor's; each call must send its method to the expanded path.
    pub(crate) fn endpoint(&self, path: &str, expected: &str, methods: &[&str], calls: &[&dyn Fn(Value)]) {
        assert_eq!(path, expected, "accessor path");
        let (concrete, variables) = expand(expected);
        // APIv2 paths go out without their `v2/`.
        let concrete = concrete.strip_prefix("v2/").unwrap_or(&concrete).to_owned();
        for (method, call) in methods.iter().zip(calls) {
            call(variables.clone());
            let received = self
                .emulator
                .received()
                .pop()
                .unwrap_or_else(|| panic!("{method} {expected}: nothing arrived"));
            assert_eq!(received.method.as_str(), *method, "{expected}");
            assert_eq!(
                received.target.split('?').next().unwrap(),
                format!("/{concrete}"),
                "{method} {expected}"
            );
            self.calls.set(self.calls.get() + 1);
        }
    }

    pub(crate) fn finish(&self, endpoints: usize) {
        assert_eq!(self.calls.get(), endpoints, "every endpoint was called once");
    }
}

include!("generated/catalog_accessors.rs");
