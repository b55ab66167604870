//! Owned message types that cross into the bindings.
//!
//! librdkafka's messages are borrowed from its buffers; the core copies them
//! into these owned types before handing them out (as rdkafka's `detach`).

/// One record header. Kafka allows repeated keys and null values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Header value; `None` is a null header value.
    pub value: Option<Vec<u8>>,
}

/// A record to produce.
#[derive(Debug, Clone, Default)]
pub struct ProduceRecord {
    /// Target topic.
    pub topic: String,
    /// Payload; `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// Key; `None` means no key (the partitioner then spreads records).
    pub key: Option<Vec<u8>>,
    /// Explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// Headers in order.
    pub headers: Vec<Header>,
    /// Timestamp in ms since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

/// A record to produce, borrowed: the hot path of bindings that lay records
/// out in one buffer (librdkafka copies the bytes, so nothing is copied twice).
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordRef<'a> {
    /// Target topic.
    pub topic: &'a str,
    /// Payload; `None` is a tombstone.
    pub value: Option<&'a [u8]>,
    /// Key; `None` means no key.
    pub key: Option<&'a [u8]>,
    /// Explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// Headers in order: (key, value).
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// Timestamp in ms since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

impl RecordRef<'_> {
    /// Whether [`crate::Producer::produce_run`] can take the record: no
    /// headers and no timestamp (librdkafka's batch call sets neither).
    pub fn batchable(&self) -> bool {
        self.headers.is_empty() && self.timestamp.is_none()
    }
}

/// A consumed message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// Key, if any.
    pub key: Option<Vec<u8>>,
    /// Payload; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// Headers in order (repeated keys kept).
    pub headers: Vec<Header>,
    /// Timestamp in ms since the epoch, if the broker gave one.
    pub timestamp: Option<i64>,
}

/// One librdkafka log line (secrets already redacted).
#[derive(Debug, Clone)]
pub struct LogLine {
    /// syslog level: 0 emergency .. 7 debug.
    pub level: i32,
    /// librdkafka's facility, e.g. "SASL".
    pub facility: String,
    /// The message.
    pub message: String,
}

/// A topic partition with an offset (for commits, seeks and lag queries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPartitionOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset; `None` when unknown or not yet committed.
    pub offset: Option<i64>,
}
