//! krafka's shared core: a Kafka client on librdkafka (statically linked, with
//! Kerberos, TLS and every compression codec inside).
//!
//! This crate knows nothing of Node. The bindings only translate types and
//! errors; every default, validation and Kerberos decision lives here so that
//! all bindings behave the same.
#![deny(missing_docs)]

pub mod admin;
pub mod batch;
pub mod config;
pub mod consumer;
pub mod error;
pub mod kerberos;
pub mod mock;
pub mod plugin;
pub mod priority;
pub mod producer;
pub mod record;
pub mod version;

pub use admin::{Admin, NewTopic};
pub use batch::MessageBatch;
pub use config::{ClientKind, Config};
pub use consumer::{Consumer, ConsumerListener, RebalanceEvent};
pub use error::{KafkaError, Result};
pub use mock::EmbeddedCluster;
pub use producer::{DeliveryReports, DeliverySink, Producer, RunOutcome, RunRecord};
pub use record::{Header, LogLine, Message, ProduceRecord, RecordRef, TopicPartitionOffset};
pub use version::{builtin_features, librdkafka_version};
