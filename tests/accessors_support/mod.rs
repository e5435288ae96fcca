//! Support for the generated `tests/catalog_accessors.rs`.

use std::cell::Cell;

use serde_json::{Map, Value};
use wechatpay::emulator::Emulator;

pub struct Check {
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
    pub fn new() -> Self {
        let emulator = Emulator::start().unwrap();
        let client = emulator.client_builder().build().unwrap();
        Self {
            client,
            emulator,
            calls: Cell::new(0),
        }
    }

    /// `path` is the accessor's; each call must send its method to the expanded path.
    pub fn endpoint(&self, path: &str, expected: &str, methods: &[&str], calls: &[&dyn Fn(Value)]) {
        assert_eq!(path, expected, "accessor path");
        let (concrete, variables) = expand(expected);
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

    pub fn finish(&self, endpoints: usize) {
        assert_eq!(self.calls.get(), endpoints, "every v3 endpoint was called once");
    }
}
