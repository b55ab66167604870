//! Node.js bindings for krafka. Each file mirrors a core module and only
//! translates types and errors; all logic lives in `krafka-core`.
#![deny(clippy::unwrap_used)]

mod admin;
mod config;
mod consumer;
mod error;
mod mock;
mod producer;

use napi_derive::napi;

/// librdkafka's `builtin.features`, e.g. `["gzip", "ssl", "sasl_gssapi", ...]`.
#[napi]
pub fn builtin_features() -> Vec<String> {
    krafka_core::builtin_features()
}

/// The version of the librdkafka linked into this addon, e.g. `"2.12.1"`.
#[napi]
pub fn librdkafka_version() -> String {
    krafka_core::librdkafka_version()
}
