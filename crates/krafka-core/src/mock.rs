//! librdkafka's in-process mock cluster, for the demo and for users' own
//! tests. krafka's integration tests never use it: they run a real broker.
use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;

use crate::error::{KafkaError, Result};

/// A mock cluster living on its own thread (librdkafka's handle is not `Send`).
pub struct EmbeddedCluster {
    bootstrap: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedCluster {
    /// Starts a mock cluster with `brokers` brokers.
    pub fn start(brokers: i32) -> Result<Self> {
        let (tx_boot, rx_boot) = mpsc::channel();
        let (tx_stop, rx_stop) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("krafka-mock-cluster".into())
            .spawn(move || match MockCluster::new(brokers) {
                Ok(c) => {
                    let _ = tx_boot.send(Ok(c.bootstrap_servers()));
                    let _ = rx_stop.recv();
                }
                Err(e) => {
                    let _ = tx_boot.send(Err(KafkaError::from_rdkafka(e, "starting mock cluster")));
                }
            })
            .map_err(|e| KafkaError::Closed(format!("mock cluster thread: {e}")))?;
        let bootstrap = rx_boot
            .recv()
            .map_err(|_| KafkaError::Closed("mock cluster".into()))??;
        Ok(EmbeddedCluster {
            bootstrap,
            stop: Some(tx_stop),
            thread: Some(thread),
        })
    }

    /// `bootstrap.servers` for clients of this cluster.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Stops the cluster. Idempotent.
    pub fn stop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
