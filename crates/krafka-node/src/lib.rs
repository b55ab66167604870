//! Node.js bindings for krafka. Each file mirrors a core module and only
//! translates types and errors; all logic lives in `krafka-core`.
#![deny(clippy::unwrap_used)]

mod admin;
mod client;
mod config;
mod consumer;
mod error;
mod mock;
mod producer;
mod promises;

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

/// librdkafka plugin entry point: krafka loads its own addon as a plugin
/// (`plugin.library.paths`) to reach librdkafka's threads: each Kerberos
/// client's ticket cache, and their priority (see krafka-core's `plugin`).
/// On Windows it is never loaded and registers nothing.
///
/// # Safety
/// Called by librdkafka with a valid conf.
#[no_mangle]
pub unsafe extern "C" fn conf_init(
    conf: *mut krafka_core::plugin::RdConf,
    plug_opaque: *mut *mut std::ffi::c_void,
    errstr: *mut std::ffi::c_char,
    errstr_size: usize,
) -> krafka_core::plugin::RdErr {
    krafka_core::plugin::plugin_conf_init(conf, plug_opaque, errstr, errstr_size)
}
