//! librdkafka's in-process mock cluster, for the demo and users' own tests.
use std::sync::Mutex;

use krafka_core::EmbeddedCluster;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::IntoNapi;

/// An in-process mock Kafka cluster (librdkafka's). Not a real broker: use it
/// for demos and unit tests only.
#[napi]
pub struct MockCluster {
    inner: Mutex<Option<EmbeddedCluster>>,
    bootstrap: String,
}

#[napi]
impl MockCluster {
    /// Starts a mock cluster with `brokers` brokers (default 1).
    #[napi(constructor)]
    pub fn new(brokers: Option<i32>) -> Result<Self> {
        let c = EmbeddedCluster::start(brokers.unwrap_or(1)).napi()?;
        Ok(MockCluster {
            bootstrap: c.bootstrap_servers().to_string(),
            inner: Mutex::new(Some(c)),
        })
    }

    /// `bootstrap.servers` for clients of this cluster.
    #[napi(getter)]
    pub fn bootstrap_servers(&self) -> String {
        self.bootstrap.clone()
    }

    /// Stops the cluster. Idempotent.
    #[napi]
    pub fn stop(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.take();
        }
    }
}
