//! The one conversion from core errors into JS errors. The string `code`
//! (`ERR__QUEUE_FULL`, ...) becomes `err.code`; lib/error.js turns these into
//! `KafkaError` instances.
use krafka_core::KafkaError;

/// Converts a core error into a napi error whose status string is the code.
pub fn to_napi(err: KafkaError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, encode(&err))
}

/// The message carries the code and flags in a fixed prefix that lib/error.js
/// parses: `ERR_X|r|f|a|human message` (retriable, fatal, abort flags).
pub fn encode(err: &KafkaError) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        err.code(),
        u8::from(err.is_retriable()),
        u8::from(err.is_fatal()),
        u8::from(err.txn_requires_abort()),
        err
    )
}

/// Shorthand used by every binding method.
pub trait IntoNapi<T> {
    /// Maps a core result into a napi result.
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for krafka_core::Result<T> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// A task join failure (a panic in core code) as a JS error, never a crash.
pub fn join_error(e: tokio::task::JoinError) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("ERR__FAIL|0|0|0|internal error: {e}"),
    )
}

/// Runs a blocking core call on tokio's blocking pool (never the JS thread or
/// the libuv threadpool) and converts its result.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> krafka_core::Result<T> + Send + 'static,
) -> napi::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(join_error)?
        .napi()
}
