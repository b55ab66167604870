//! A batch of consumed messages in one flat, columnar layout.
//!
//! Why: copying every key and value into its own allocation (and, in a
//! binding, its own runtime object) was the cost that capped consumption
//! (see BENCHMARKS.md). Here all bytes go back to back into one buffer and
//! each message is a row of integers, so a batch crosses into a binding as a
//! handful of arrays whatever its size, and the binding can hand out views.
use rdkafka::message::{Headers as _, Message as _};

use crate::record::{Header, Message};

/// Integers per message in [`MessageBatch::fields`].
pub const FIELDS: usize = 8;
/// Integers per header in [`MessageBatch::header_fields`].
pub const HEADER_FIELDS: usize = 2;
/// Stop adding messages once this many bytes are in a batch, so that byte
/// positions always fit an `i32` (one more message is at most 1 GB).
const SOFT_BYTES: usize = 64 << 20;

/// Consumed messages, columnar. Byte ranges are (start, length) into
/// [`MessageBatch::data`]; a length of -1 means null.
#[derive(Debug, Clone, Default)]
pub struct MessageBatch {
    /// Every key, value and header value, back to back.
    pub data: Vec<u8>,
    /// The distinct topics of the batch; rows refer to them by index.
    pub topics: Vec<String>,
    /// [`FIELDS`] per message: topic index, partition, key start, key
    /// length, value start, value length, first header, header count.
    pub fields: Vec<i32>,
    /// Offset of each message.
    pub offsets: Vec<i64>,
    /// Timestamp (ms since the epoch) of each message, if the broker gave one.
    pub timestamps: Vec<Option<i64>>,
    /// Header keys, in message order.
    pub header_keys: Vec<String>,
    /// [`HEADER_FIELDS`] per header: value start, value length.
    pub header_fields: Vec<i32>,
    /// Number of the `Consumer::poll_batch` call that filled it (1, 2, ...).
    /// Rebalance events carry the number of the poll they happened in, so a
    /// binding that reads ahead can hold a rebalance back until every batch
    /// filled before it has been processed.
    pub poll: u64,
    /// librdkafka's topic handle of the last row and its index: resolving a
    /// topic name per message (strlen + UTF-8 check) was measurable.
    last_topic: (usize, usize),
}

impl MessageBatch {
    /// An empty batch with room for `n` messages and `bytes` bytes of data.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        MessageBatch {
            data: Vec::with_capacity(bytes),
            fields: Vec::with_capacity(n * FIELDS),
            offsets: Vec::with_capacity(n),
            timestamps: Vec::with_capacity(n),
            ..Default::default()
        }
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True when the batch holds no message.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// True when the batch should take no more messages (byte budget).
    pub fn is_full(&self) -> bool {
        self.data.len() >= SOFT_BYTES
    }

    /// Appends a consumed message (copied: librdkafka owns it).
    pub fn push(&mut self, m: &rdkafka::message::BorrowedMessage<'_>) {
        let rkt = m.topic_ptr() as usize;
        let t = if rkt != 0 && self.last_topic.0 == rkt {
            self.last_topic.1
        } else {
            let t = self.topic_index(m.topic());
            self.last_topic = (rkt, t);
            t
        };
        self.push_row(m, t, known_headerless(m.ptr()));
    }

    fn topic_index(&mut self, topic: &str) -> usize {
        // Batches rarely span more than a few topics: a linear scan beats hashing.
        match self.topics.iter().rposition(|x| x == topic) {
            Some(i) => i,
            None => {
                self.topics.push(topic.to_string());
                self.topics.len() - 1
            }
        }
    }

    fn push_row<M: rdkafka::message::Message>(&mut self, m: &M, t: usize, headerless: bool) {
        let (ks, kl) = self.bytes(m.key());
        let (vs, vl) = self.bytes(m.payload());
        let first = (self.header_keys.len()) as i32;
        let mut count = 0;
        let headers = if headerless { None } else { m.headers() };
        if let Some(h) = headers {
            for hd in h.iter() {
                let (s, l) = self.bytes(hd.value);
                self.header_keys.push(hd.key.to_string());
                self.header_fields.extend_from_slice(&[s, l]);
                count += 1;
            }
        }
        self.fields
            .extend_from_slice(&[t as i32, m.partition(), ks, kl, vs, vl, first, count]);
        self.offsets.push(m.offset());
        self.timestamps.push(m.timestamp().to_millis());
    }

    /// Keeps only the rows whose (topic, partition) `keep` accepts, in order.
    /// Why: rows polled before a revocation in the same batch belong to
    /// partitions this member no longer owns; handing them out would process
    /// (and try to store) records that the new owner gets too.
    pub fn retain_partitions(&mut self, keep: impl Fn(&str, i32) -> bool) {
        let old = std::mem::take(self);
        let mut out = MessageBatch::with_capacity(old.len(), old.data.len());
        for i in 0..old.len() {
            let f = &old.fields[i * FIELDS..(i + 1) * FIELDS];
            if !keep(&old.topics[f[0] as usize], f[1]) {
                continue;
            }
            let (ks, kl) = out.bytes(old.range(f[2], f[3]));
            let (vs, vl) = out.bytes(old.range(f[4], f[5]));
            let first = out.header_keys.len() as i32;
            for h in f[6] as usize..(f[6] + f[7]) as usize {
                let hf = &old.header_fields[h * HEADER_FIELDS..(h + 1) * HEADER_FIELDS];
                let (s, l) = out.bytes(old.range(hf[0], hf[1]));
                out.header_keys.push(old.header_keys[h].clone());
                out.header_fields.extend_from_slice(&[s, l]);
            }
            out.fields
                .extend_from_slice(&[f[0], f[1], ks, kl, vs, vl, first, f[7]]);
            out.offsets.push(old.offsets[i]);
            out.timestamps.push(old.timestamps[i]);
        }
        // Topic indices stay valid: the topic table is kept as it was.
        out.topics = old.topics;
        out.last_topic = old.last_topic;
        out.poll = old.poll;
        *self = out;
    }

    fn range(&self, start: i32, len: i32) -> Option<&[u8]> {
        (len >= 0).then(|| &self.data[start as usize..(start + len) as usize])
    }

    fn bytes(&mut self, b: Option<&[u8]>) -> (i32, i32) {
        match b {
            Some(b) => {
                let start = self.data.len();
                self.data.extend_from_slice(b);
                (start as i32, b.len() as i32)
            }
            None => (self.data.len() as i32, -1),
        }
    }

    fn slice(&self, start: i32, len: i32) -> Option<Vec<u8>> {
        self.range(start, len).map(<[u8]>::to_vec)
    }

    /// Message `i` as an owned [`Message`] (for Rust callers and tests; a
    /// binding reads the columns directly). Panics when `i >= len()`.
    pub fn message(&self, i: usize) -> Message {
        let f = &self.fields[i * FIELDS..(i + 1) * FIELDS];
        let headers = (f[6]..f[6] + f[7])
            .map(|h| {
                let h = h as usize;
                let hf = &self.header_fields[h * HEADER_FIELDS..(h + 1) * HEADER_FIELDS];
                Header {
                    key: self.header_keys[h].clone(),
                    value: self.slice(hf[0], hf[1]),
                }
            })
            .collect();
        Message {
            topic: self.topics[f[0] as usize].clone(),
            partition: f[1],
            offset: self.offsets[i],
            key: self.slice(f[2], f[3]),
            value: self.slice(f[4], f[5]),
            headers,
            timestamp: self.timestamps[i],
        }
    }
}

/// librdkafka's private `rd_kafka_msg_t` (src/rdkafka_msg.h) up to a consumed
/// message's unparsed headers, as laid out in [`MSG_LAYOUT_VERSION`] exactly.
#[repr(C)]
struct RdKafkaMsg {
    rkmessage: rdkafka::bindings::rd_kafka_message_t,
    link: [*mut std::ffi::c_void; 2],
    flags: std::ffi::c_int,
    tstype: std::ffi::c_int,
    timestamp: i64,
    headers: *mut std::ffi::c_void,
    status: std::ffi::c_int,
    broker_id: i32,
    // rkm_u.consumer.binhdrs: rd_kafkap_bytes_t { int32_t len; const void *data; }
    binhdrs_len: i32,
    binhdrs_data: *const u8,
}

/// The librdkafka version (`rd_kafka_version()`) whose layout [`RdKafkaMsg`] mirrors.
const MSG_LAYOUT_VERSION: i32 = 0x020c_01ff; // 2.12.1
/// `RD_KAFKA_MSG_F_PRODUCER`: the union holds producer fields instead.
const MSG_F_PRODUCER: std::ffi::c_int = 0x40000;

/// True when a consumed message certainly has no headers; false means "ask
/// librdkafka". Why: librdkafka 2.12 parses headers on first access, and a
/// record with none still stores its header count (one zero byte), so
/// `rd_kafka_message_headers` allocates and frees a parse buffer for every
/// headerless message. That was about a tenth of the poll thread
/// (BENCHMARKS.md). Only trusted on the librdkafka version whose layout is
/// mirrored above (checked at run time; unit-tested against real messages).
fn known_headerless(m: *const rdkafka::bindings::rd_kafka_message_t) -> bool {
    static SAME_LAYOUT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: rd_kafka_version has no preconditions.
    if m.is_null()
        || !*SAME_LAYOUT
            .get_or_init(|| unsafe { rdkafka::bindings::rd_kafka_version() } == MSG_LAYOUT_VERSION)
    {
        return false;
    }
    // SAFETY: every rd_kafka_message_t librdkafka hands out is the first field
    // of an rd_kafka_msg_t laid out as RdKafkaMsg in this version; a consumed
    // message's binhdrs points into its fetch buffer, alive while the message is.
    unsafe {
        let r = &*(m as *const RdKafkaMsg);
        r.flags & MSG_F_PRODUCER == 0
            && r.headers.is_null()
            && r.binhdrs_len == 1
            && !r.binhdrs_data.is_null()
            && *r.binhdrs_data == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{Header as RdHeader, OwnedHeaders, OwnedMessage, Timestamp};

    fn msg(topic: &str, key: Option<&[u8]>, value: Option<&[u8]>, h: bool) -> OwnedMessage {
        let headers = h.then(|| {
            OwnedHeaders::new()
                .insert(RdHeader {
                    key: "a",
                    value: Some("1"),
                })
                .insert(RdHeader::<&[u8]> {
                    key: "a",
                    value: None,
                })
        });
        OwnedMessage::new(
            value.map(<[u8]>::to_vec),
            key.map(<[u8]>::to_vec),
            topic.into(),
            Timestamp::CreateTime(42),
            3,
            7,
            headers,
        )
    }

    impl MessageBatch {
        fn push_owned(&mut self, m: &OwnedMessage) {
            let t = self.topic_index(m.topic());
            self.push_row(m, t, false);
        }
    }

    #[test]
    fn round_trips_rows_nulls_headers_and_topics() {
        let mut b = MessageBatch::with_capacity(4, 0);
        b.push_owned(&msg("t1", Some(b"k"), Some(b"value"), false));
        b.push_owned(&msg("t2", None, None, true));
        b.push_owned(&msg("t1", Some(b""), Some(b"v2"), false));
        assert_eq!(b.len(), 3);
        assert_eq!(b.topics, vec!["t1", "t2"]);
        let m0 = b.message(0);
        assert_eq!((m0.topic.as_str(), m0.partition, m0.offset), ("t1", 3, 7));
        assert_eq!(m0.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(m0.value.as_deref(), Some(&b"value"[..]));
        assert_eq!(m0.timestamp, Some(42));
        let m1 = b.message(1);
        assert_eq!((m1.key, m1.value), (None, None));
        assert_eq!(m1.topic, "t2");
        assert_eq!(m1.headers.len(), 2);
        assert_eq!(m1.headers[0].value.as_deref(), Some(&b"1"[..]));
        assert_eq!(m1.headers[1].value, None);
        let m2 = b.message(2);
        assert_eq!(
            m2.key.as_deref(),
            Some(&b""[..]),
            "an empty key is not a null key"
        );
        assert_eq!(m2.value.as_deref(), Some(&b"v2"[..]));
        assert!(m2.headers.is_empty());
        assert_eq!(b.data, b"kvalue1v2");
    }

    #[test]
    fn retain_partitions_keeps_whole_rows_in_order() {
        let mut b = MessageBatch::with_capacity(4, 0);
        for (i, (topic, partition, h)) in [
            ("t1", 0, false),
            ("t2", 1, true),
            ("t1", 1, true),
            ("t2", 0, false),
            ("t1", 1, false),
        ]
        .into_iter()
        .enumerate()
        {
            let m = msg(
                topic,
                Some(format!("k{i}").as_bytes()),
                Some(format!("value{i}").as_bytes()),
                h,
            )
            .set_partition(partition);
            b.push_owned(&m);
        }
        let all: Vec<Message> = (0..b.len()).map(|i| b.message(i)).collect();
        b.retain_partitions(|_, p| p == 1);
        let kept: Vec<Message> = (0..b.len()).map(|i| b.message(i)).collect();
        let want: Vec<Message> = all.into_iter().filter(|m| m.partition == 1).collect();
        assert_eq!(kept.len(), 3);
        assert_eq!(kept, want);
        assert_eq!(
            b.data.len(),
            want.iter()
                .map(|m| {
                    m.key.as_ref().map_or(0, Vec::len)
                        + m.value.as_ref().map_or(0, Vec::len)
                        + m.headers
                            .iter()
                            .map(|h| h.value.as_ref().map_or(0, Vec::len))
                            .sum::<usize>()
                })
                .sum::<usize>(),
            "dropped rows' bytes are gone"
        );
        b.retain_partitions(|_, _| false);
        assert!(b.is_empty() && b.data.is_empty());
    }

    /// The layout mirror must agree with librdkafka on real consumed
    /// messages: a wrong offset would skip headers or read garbage.
    #[test]
    fn known_headerless_agrees_with_librdkafka_on_consumed_messages() {
        use rdkafka::consumer::{BaseConsumer, Consumer as _};
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
        use rdkafka::ClientConfig;
        use std::time::{Duration, Instant};

        let cluster = crate::EmbeddedCluster::start(1).expect("mock cluster");
        let bs = cluster.bootstrap_servers().to_string();
        let p: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &bs)
            .create()
            .expect("producer");
        let headers = OwnedHeaders::new().insert(RdHeader {
            key: "h",
            value: Some("v"),
        });
        for (i, h) in [None, Some(headers), Some(OwnedHeaders::new())]
            .into_iter()
            .enumerate()
        {
            let mut r = BaseRecord::<(), [u8]>::to("t")
                .payload(&b"x"[..])
                .partition(0);
            if let Some(h) = h {
                r = r.headers(h);
            }
            p.send(r).unwrap_or_else(|_| panic!("send {i}"));
        }
        p.flush(Duration::from_secs(10)).expect("flush");

        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bs)
            .set("group.id", "g")
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        c.subscribe(&["t"]).expect("subscribe");
        let (mut seen, mut b) = (Vec::new(), MessageBatch::with_capacity(3, 0));
        let deadline = Instant::now() + Duration::from_secs(20);
        while seen.len() < 3 && Instant::now() < deadline {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
                seen.push((
                    known_headerless(m.ptr()),
                    m.headers().map_or(0, |h| h.count()),
                ));
                b.push(&m);
            }
        }
        assert_eq!(
            seen,
            vec![(true, 0), (false, 1), (true, 0)],
            "(known headerless, headers librdkafka parsed) per message"
        );
        assert_eq!(b.message(1).headers[0].key, "h");
        assert_eq!(b.message(1).headers[0].value.as_deref(), Some(&b"v"[..]));
        assert!(b.message(0).headers.is_empty() && b.message(2).headers.is_empty());
    }
}
