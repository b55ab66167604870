//! The balanced consumer (consumer group member).
//!
//! Messages are handed out in batches: [`Consumer::poll_batch`] blocks (on a
//! worker thread, never an event loop) until the first message or the wait
//! limit, then drains what is already fetched up to the batch size, so a
//! binding crosses into its runtime once per batch.
//!
//! At-least-once by default: `enable.auto.offset.store=false`, and bindings
//! call [`Consumer::store_offsets`] only for messages the app has finished
//! processing; auto-commit then commits only those.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, DefaultConsumerContext};
use rdkafka::message::Message as _;
use rdkafka::{Offset, TopicPartitionList};

use crate::config::{ClientKind, Config};
use crate::error::{KafkaError, Result};
use crate::producer::owned_headers;
use crate::record::{Message, TopicPartitionOffset};

/// A consumer group member. All methods take `&self`; blocking ones say so.
pub struct Consumer {
    inner: BaseConsumer<DefaultConsumerContext>,
    closed: AtomicBool,
    /// An error seen after a batch had already started; returned on the next call.
    deferred: Mutex<Option<KafkaError>>,
}

impl Consumer {
    /// Creates a consumer; config errors name the key at fault.
    pub fn new(config: &Config) -> Result<Self> {
        let cc = config.build(ClientKind::Consumer)?;
        let inner: BaseConsumer = cc.create().map_err(|e| KafkaError::from_rdkafka(e, "creating consumer"))?;
        Ok(Consumer { inner, closed: AtomicBool::new(false), deferred: Mutex::new(None) })
    }

    fn check_open(&self, what: &str) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(KafkaError::Closed(what.into()))
        } else {
            Ok(())
        }
    }

    /// Joins the group for these topics (a name starting with `^` is a regex).
    pub fn subscribe(&self, topics: &[String]) -> Result<()> {
        self.check_open("subscribe")?;
        if topics.is_empty() {
            return Err(KafkaError::InvalidArgument { field: "topics".into(), reason: "must name at least one topic".into() });
        }
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.inner.subscribe(&refs).map_err(|e| KafkaError::from_rdkafka(e, format!("subscribe to {topics:?}")))
    }

    /// Manual assignment (no group rebalancing). `offset: None` resumes from the committed offset.
    pub fn assign(&self, partitions: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("assign")?;
        let tpl = to_tpl(partitions, Offset::Stored)?;
        self.inner.assign(&tpl).map_err(|e| KafkaError::from_rdkafka(e, "assign"))
    }

    /// Blocks until at least one message arrives or `wait` passes, then
    /// returns up to `max` messages already fetched. Empty on timeout.
    pub fn poll_batch(&self, max: usize, wait: Duration) -> Result<Vec<Message>> {
        self.check_open("poll")?;
        if let Some(e) = self.deferred.lock().ok().and_then(|mut d| d.take()) {
            return Err(e);
        }
        let deadline = Instant::now() + wait;
        let mut out = Vec::with_capacity(max.min(4096));
        while out.len() < max {
            let timeout = if out.is_empty() { deadline.saturating_duration_since(Instant::now()) } else { Duration::ZERO };
            match self.inner.poll(timeout) {
                None => {
                    if !out.is_empty() || Instant::now() >= deadline {
                        break;
                    }
                }
                Some(Ok(m)) => out.push(Message {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    headers: m.headers().map(owned_headers).unwrap_or_default(),
                    timestamp: m.timestamp().to_millis(),
                }),
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => {
                    let err = KafkaError::from_rdkafka(e, "consume");
                    if out.is_empty() {
                        return Err(err);
                    }
                    if let Ok(mut d) = self.deferred.lock() {
                        *d = Some(err);
                    }
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Marks messages as processed: stores `offset` (the *next* offset to
    /// read) per partition for the next commit.
    pub fn store_offsets(&self, offsets: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("storeOffsets")?;
        if offsets.is_empty() {
            return Ok(());
        }
        let tpl = to_tpl(offsets, Offset::Invalid)?;
        self.inner.store_offsets(&tpl).map_err(|e| KafkaError::from_rdkafka(e, "storeOffsets"))
    }

    /// Commits synchronously: the given offsets, or all stored ones when `None`.
    /// Blocks until the broker has answered; call from a worker thread.
    pub fn commit(&self, offsets: Option<&[TopicPartitionOffset]>) -> Result<()> {
        self.check_open("commit")?;
        let res = match offsets {
            Some(o) => self.inner.commit(&to_tpl(o, Offset::Invalid)?, CommitMode::Sync),
            None => self.inner.commit_consumer_state(CommitMode::Sync),
        };
        match res {
            // Nothing stored since the last commit is not a failure.
            Err(rdkafka::error::KafkaError::ConsumerCommit(rdkafka::types::RDKafkaErrorCode::NoOffset)) => Ok(()),
            r => r.map_err(|e| KafkaError::from_rdkafka(e, "commit")),
        }
    }

    /// Committed offsets of the group for these partitions. Blocking.
    pub fn committed(&self, partitions: &[TopicPartitionOffset], timeout: Duration) -> Result<Vec<TopicPartitionOffset>> {
        self.check_open("committed")?;
        let tpl = to_tpl(partitions, Offset::Invalid)?;
        let res = self.inner.committed_offsets(tpl, timeout).map_err(|e| KafkaError::from_rdkafka(e, "committed"))?;
        Ok(from_tpl(&res))
    }

    /// The partitions currently assigned to this member.
    pub fn assignment(&self) -> Result<Vec<TopicPartitionOffset>> {
        self.check_open("assignment")?;
        let tpl = self.inner.assignment().map_err(|e| KafkaError::from_rdkafka(e, "assignment"))?;
        Ok(from_tpl(&tpl))
    }

    /// Low and high watermarks of a partition. Blocking.
    pub fn watermarks(&self, topic: &str, partition: i32, timeout: Duration) -> Result<(i64, i64)> {
        self.check_open("queryWatermarkOffsets")?;
        self.inner
            .fetch_watermarks(topic, partition, timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, format!("watermarks of {topic}[{partition}]")))
    }

    /// Leaves the group cleanly (commits stored offsets when auto-commit is on,
    /// runs the revocation) and releases the member. Blocking; idempotent.
    pub fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.close_queue().map_err(|e| KafkaError::from_rdkafka(e, "close"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.inner.closed() && Instant::now() < deadline {
            let _ = self.inner.poll(Duration::from_millis(100));
        }
        Ok(())
    }
}

fn to_tpl(parts: &[TopicPartitionOffset], default: Offset) -> Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::with_capacity(parts.len());
    for p in parts {
        if p.partition < 0 {
            return Err(KafkaError::InvalidArgument { field: "partition".into(), reason: format!("{} is negative", p.partition) });
        }
        let off = p.offset.map(Offset::Offset).unwrap_or(default);
        tpl.add_partition_offset(&p.topic, p.partition, off)
            .map_err(|e| KafkaError::from_rdkafka(e, format!("offset for {}[{}]", p.topic, p.partition)))?;
    }
    Ok(tpl)
}

fn from_tpl(tpl: &TopicPartitionList) -> Vec<TopicPartitionOffset> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartitionOffset {
            topic: e.topic().to_string(),
            partition: e.partition(),
            offset: e.offset().to_raw().filter(|o| *o >= 0),
        })
        .collect()
}
