//! The producer.
//!
//! Records are enqueued synchronously (fast, never blocks: a full queue is an
//! immediate `ERR__QUEUE_FULL`). Delivery reports are pushed to a
//! [`DeliverySink`] as librdkafka produces them, in batches: one dedicated
//! thread waits in `rd_kafka_poll` and, after each wake-up, hands everything
//! that arrived to the sink in one call. Nothing is polled on a timer, and a
//! binding can cross into its runtime once per batch instead of once per record.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rdkafka::message::{Header as RdHeader, Headers, Message as _, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::ClientContext;

use crate::config::{ClientKind, Config};
use crate::error::{KafkaError, Result};
use crate::record::ProduceRecord;

/// The outcome of one produced record, tagged with the caller's id.
#[derive(Debug, Clone)]
pub struct DeliveryReport {
    /// The id the caller passed to [`Producer::produce`].
    pub id: u64,
    /// Topic.
    pub topic: String,
    /// Partition the record landed on (or was meant for).
    pub partition: i32,
    /// Offset assigned by the broker; -1 on error.
    pub offset: i64,
    /// Timestamp of the record, if known.
    pub timestamp: Option<i64>,
    /// Error, if delivery failed.
    pub error: Option<KafkaError>,
}

/// Receives delivery reports in batches, on krafka's delivery thread.
pub trait DeliverySink: Send + Sync + 'static {
    /// Called with every report that arrived since the last call; never empty.
    fn deliver(&self, reports: Vec<DeliveryReport>);
}

/// Collects reports during one `poll` so they leave as one batch.
struct Context {
    pending: Mutex<Vec<DeliveryReport>>,
}

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, id: Self::DeliveryOpaque) {
        let report = match result {
            Ok(m) => DeliveryReport {
                id: *id,
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                timestamp: m.timestamp().to_millis(),
                error: None,
            },
            Err((e, m)) => DeliveryReport {
                id: *id,
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: -1,
                timestamp: m.timestamp().to_millis(),
                error: Some(KafkaError::from_rdkafka(
                    e.clone(),
                    format!("delivery to topic \"{}\" failed", m.topic()),
                )),
            },
        };
        if let Ok(mut p) = self.pending.lock() {
            p.push(report);
        }
    }
}

/// A Kafka producer. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Producer {
    inner: Arc<BaseProducer<Context>>,
    stop: Arc<AtomicBool>,
    poller: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl Producer {
    /// Creates a producer; config errors name the key at fault.
    pub fn new(config: &Config, sink: Arc<dyn DeliverySink>) -> Result<Self> {
        let cc = config.build(ClientKind::Producer)?;
        let ctx = Context { pending: Mutex::new(Vec::new()) };
        let inner: Arc<BaseProducer<Context>> = Arc::new(
            cc.create_with_context(ctx).map_err(|e| KafkaError::from_rdkafka(e, "creating producer"))?,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (inner, stop) = (inner.clone(), stop.clone());
            std::thread::Builder::new()
                .name("krafka-delivery".into())
                .spawn(move || {
                    // Exit only once stopped *and* nothing is left in flight, so no report is lost.
                    while !stop.load(Ordering::Acquire) || inner.in_flight_count() > 0 {
                        inner.poll(Duration::from_millis(100));
                        let batch = match inner.context().pending.lock() {
                            Ok(mut p) if !p.is_empty() => std::mem::take(&mut *p),
                            _ => continue,
                        };
                        sink.deliver(batch);
                    }
                })
                .map_err(|e| KafkaError::Closed(format!("cannot start delivery thread: {e}")))?
        };
        Ok(Producer { inner, stop, poller: Mutex::new(Some(poller)), closed: AtomicBool::new(false) })
    }

    /// Enqueues one record; its report arrives at the sink with `id`.
    /// Fails at once with `ERR__QUEUE_FULL` when the local queue is full.
    pub fn produce(&self, record: &ProduceRecord, id: u64) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(KafkaError::Closed("produce".into()));
        }
        if record.topic.is_empty() {
            return Err(KafkaError::InvalidArgument { field: "topic".into(), reason: "must be a non-empty string".into() });
        }
        let mut rec: BaseRecord<'_, [u8], [u8], Box<u64>> =
            BaseRecord::with_opaque_to(&record.topic, Box::new(id));
        if let Some(v) = &record.value {
            rec = rec.payload(v.as_slice());
        }
        if let Some(k) = &record.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(p) = record.partition {
            rec = rec.partition(p);
        }
        if let Some(ts) = record.timestamp {
            rec = rec.timestamp(ts);
        }
        if !record.headers.is_empty() {
            let mut h = OwnedHeaders::new_with_capacity(record.headers.len());
            for hd in &record.headers {
                h = h.insert(RdHeader { key: &hd.key, value: hd.value.as_deref() });
            }
            rec = rec.headers(h);
        }
        self.inner.send(rec).map_err(|(e, _)| {
            KafkaError::from_rdkafka(e, format!("producing to topic \"{}\"", record.topic))
        })
    }

    /// Number of records not yet acknowledged.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }

    /// Blocks until every in-flight record is delivered or `timeout` passes.
    /// Call from a worker thread, never from an event loop.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        self.inner.flush(timeout).map_err(|e| KafkaError::from_rdkafka(e, "flush"))
    }

    /// Transactions: registers the transactional id with the coordinator.
    pub fn init_transactions(&self, timeout: Duration) -> Result<()> {
        self.inner.init_transactions(timeout).map_err(|e| KafkaError::from_rdkafka(e, "initTransactions"))
    }

    /// Transactions: begins a transaction.
    pub fn begin_transaction(&self) -> Result<()> {
        self.inner.begin_transaction().map_err(|e| KafkaError::from_rdkafka(e, "beginTransaction"))
    }

    /// Transactions: commits the current transaction (flushes first).
    pub fn commit_transaction(&self, timeout: Duration) -> Result<()> {
        self.inner.commit_transaction(timeout).map_err(|e| KafkaError::from_rdkafka(e, "commitTransaction"))
    }

    /// Transactions: aborts the current transaction.
    pub fn abort_transaction(&self, timeout: Duration) -> Result<()> {
        self.inner.abort_transaction(timeout).map_err(|e| KafkaError::from_rdkafka(e, "abortTransaction"))
    }

    /// Flushes what is in flight (up to `timeout`), then stops the delivery
    /// thread once every report has been handed out. Idempotent.
    pub fn close(&self, timeout: Duration) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let flushed = self.flush(timeout);
        if flushed.is_err() {
            // Undelivered records fail with ERR__PURGE_QUEUE reports instead of vanishing.
            self.inner.purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        }
        self.stop.store(true, Ordering::Release);
        let handle = self.poller.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        flushed
    }
}

/// Reads headers of a librdkafka message into owned headers.
pub(crate) fn owned_headers<H: Headers>(h: &H) -> Vec<crate::record::Header> {
    h.iter()
        .map(|hd| crate::record::Header { key: hd.key.to_string(), value: hd.value.map(<[u8]>::to_vec) })
        .collect()
}
