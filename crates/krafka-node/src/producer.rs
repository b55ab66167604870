//! `NativeProducer`: the core producer behind a napi class.
//!
//! Delivery reports reach JS as one call per batch through a weak
//! ThreadsafeFunction (it never keeps Node alive by itself; lib/producer.js holds
//! the process open while sends are in flight). Reports travel as parallel
//! typed arrays plus a short list of failures, so a batch of N reports costs a
//! handful of napi calls, not N objects.
use std::sync::Arc;
use std::time::Duration;

use krafka_core::{DeliveryReports, DeliverySink, Producer, RecordRef, RunRecord};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::client::Shared;
use crate::error::{encode, IntoNapi};

/// What `producePacked` did with a chunk of records.
#[napi(object)]
pub struct PackedResult {
    /// Records handled (enqueued or failed): the whole chunk unless the local
    /// queue filled up (`ERR__QUEUE_FULL`), when the rest is for a retry.
    pub done: u32,
    /// Records librdkafka refused at once (unknown partition, too large, ...).
    pub failures: Vec<DeliveryFailure>,
}

/// A failed delivery inside a [`DeliveryBatch`].
#[napi(object)]
pub struct DeliveryFailure {
    /// Index into the batch's arrays.
    pub index: u32,
    /// Encoded error (see lib/error.js `decodeError`).
    pub error: String,
}

impl DeliveryFailure {
    /// Record `index` failed with `e`.
    fn at(index: usize, e: &krafka_core::KafkaError) -> Self {
        DeliveryFailure {
            index: index as u32,
            error: encode(e),
        }
    }
}

/// What the delivery thread hands lib/producer.js: delivery reports that
/// arrived together (kind "reports"; the arrays are parallel), or a client
/// error, log line, token request or statistics, with the consumer's kinds
/// (see `ConsumerEvent`).
#[napi(object)]
pub struct DeliveryBatch {
    /// "reports", "error", "log", "oauth" or "stats".
    pub kind: String,
    /// The ids given to `produce`.
    pub ids: Float64Array,
    /// Partitions.
    pub partitions: Int32Array,
    /// Offsets (-1 on failure).
    pub offsets: Float64Array,
    /// Timestamps in ms (-1 when unknown).
    pub timestamps: Float64Array,
    /// Failures, usually empty.
    pub failures: Vec<DeliveryFailure>,
    /// Encoded error (kind "error" only).
    pub error: Option<String>,
    /// A librdkafka log line, secrets redacted (kind "log" only).
    pub log: Option<LogEntry>,
    /// `sasl.oauthbearer.config` (kind "oauth" only; answer with `setOauthToken` or `setOauthFailure`).
    pub oauth_config: Option<String>,
    /// librdkafka's statistics JSON (kind "stats" only).
    pub stats: Option<String>,
}

/// One librdkafka log line.
#[napi(object)]
pub struct LogEntry {
    /// syslog level: 0 emergency .. 7 debug.
    pub level: i32,
    /// librdkafka facility, e.g. "SASL".
    pub facility: String,
    /// The message (secrets redacted).
    pub message: String,
}

impl DeliveryBatch {
    /// An event of this kind with no reports and every optional part empty.
    fn of(kind: &str) -> Self {
        DeliveryBatch {
            kind: kind.into(),
            ids: Float64Array::new(Vec::new()),
            partitions: Int32Array::new(Vec::new()),
            offsets: Float64Array::new(Vec::new()),
            timestamps: Float64Array::new(Vec::new()),
            failures: Vec::new(),
            error: None,
            log: None,
            oauth_config: None,
            stats: None,
        }
    }
}

type DeliveryFn = ThreadsafeFunction<DeliveryBatch, (), DeliveryBatch, Status, false, true>;

struct JsSink(DeliveryFn, std::sync::atomic::AtomicBool);

impl DeliverySink for JsSink {
    fn deliver(&self, reports: DeliveryReports) {
        let f64s = |v: &[i64]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let batch = DeliveryBatch {
            kind: "reports".into(),
            ids: Float64Array::new(reports.ids.iter().map(|&x| x as f64).collect()),
            offsets: Float64Array::new(f64s(&reports.offsets)),
            timestamps: Float64Array::new(f64s(&reports.timestamps)),
            partitions: Int32Array::new(reports.partitions),
            failures: reports
                .failures
                .iter()
                .map(|(i, e)| DeliveryFailure::at(*i, e))
                .collect(),
            error: None,
            log: None,
            oauth_config: None,
            stats: None,
        };
        // Blocking mode: a report is never dropped, even when JS is busy.
        self.0.call(batch, ThreadsafeFunctionCallMode::Blocking);
    }

    fn error(&self, error: krafka_core::KafkaError) {
        let batch = DeliveryBatch {
            error: Some(encode(&error)),
            ..DeliveryBatch::of("error")
        };
        self.0.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn oauth_refresh(&self, config: Option<String>) -> bool {
        if !self.1.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        let batch = DeliveryBatch {
            oauth_config: Some(config.unwrap_or_default()),
            ..DeliveryBatch::of("oauth")
        };
        self.0.call(batch, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }

    fn log(&self, line: krafka_core::LogLine) {
        let batch = DeliveryBatch {
            log: Some(LogEntry {
                level: line.level,
                facility: line.facility,
                message: line.message,
            }),
            ..DeliveryBatch::of("log")
        };
        self.0.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn stats(&self, json: String) {
        let batch = DeliveryBatch {
            stats: Some(json),
            ..DeliveryBatch::of("stats")
        };
        self.0.call(batch, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// A chunk lib/ should never have made: refused whole, before anything is enqueued.
fn bad(what: &str) -> napi::Error {
    crate::error::to_napi(krafka_core::KafkaError::InvalidArgument {
        field: "records".into(),
        reason: format!("malformed chunk: {what}"),
    })
}

/// Bytes `start..start+len` of `data`; `None` for len -1 (null).
fn span(data: &[u8], start: i32, len: i32) -> Result<Option<&[u8]>> {
    if len < 0 {
        return Ok(None);
    }
    let s = usize::try_from(start).map_err(|_| bad("byte range"))?;
    s.checked_add(len as usize)
        .and_then(|end| data.get(s..end))
        .map(Some)
        .ok_or_else(|| bad("byte range"))
}

/// A packed record's timestamp: -1 (or anything below 0) for none.
fn timestamp(ms: f64) -> Option<i64> {
    (ms >= 0.0).then_some(ms as i64)
}

/// Record `i` of a packed chunk (see `producePacked`), with `headers` already gathered.
fn record_at<'a>(
    i: usize,
    data: &'a [u8],
    topics: &'a [String],
    fields: &[i32],
    nums: &[f64],
    headers: &'a [(&'a str, Option<&'a [u8]>)],
) -> Result<RecordRef<'a>> {
    let f = &fields[i * 8..i * 8 + 8];
    Ok(RecordRef {
        topic: topics
            .get(f[0] as usize)
            .ok_or_else(|| bad("topic index"))?,
        key: span(data, f[2], f[3])?,
        value: span(data, f[4], f[5])?,
        partition: (f[1] >= 0).then_some(f[1]),
        headers,
        timestamp: timestamp(nums[i * 2 + 1]),
    })
}

/// Low-level producer used by lib/producer.js's `Producer`.
#[napi]
pub struct NativeProducer {
    inner: Shared<Producer>,
    /// This producer's number in [`PRODUCERS`], for [`produce_one`].
    handle: u32,
}

thread_local! {
    /// The producers made on this JS thread, by handle (never reused: a stale
    /// handle finds `None`, never another producer). [`produce_one`] finds its
    /// producer here: a method's `&self` costs napi-rs a type-tag check and a
    /// borrow registration per call, about 12 % of `produce()`'s event-loop
    /// time, and `produce()` crosses once per record.
    static PRODUCERS: std::cell::RefCell<Vec<Option<Arc<Producer>>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for NativeProducer {
    fn drop(&mut self) {
        // Finalizers run on the JS thread that made the producer; at that
        // thread's exit the table may already be gone (and with it the entry).
        let _ = PRODUCERS.try_with(|t| {
            if let Some(slot) = t.borrow_mut().get_mut(self.handle as usize) {
                *slot = None;
            }
        });
    }
}

/// Enqueues one record without headers (`produce()`'s fast path: no
/// packing) for the producer numbered `producer` (`NativeProducer.handle()`)
/// and the topic numbered `topic` (`NativeProducer.topicId()`). Throws
/// `ERR__QUEUE_FULL` when the local queue is full. Plain argument types
/// (strings made Buffers in JS, -1 for no partition or timestamp):
/// `Either`/`Option` conversions were a third of the call's cost.
#[napi]
pub fn produce_one(
    producer: u32,
    topic: u32,
    value: Option<BufferSlice>,
    key: Option<BufferSlice>,
    partition: i32,
    timestamp: f64,
    id: f64,
) -> Result<()> {
    PRODUCERS.with(|t| {
        let table = t.borrow();
        let p = table
            .get(producer as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                crate::error::to_napi(krafka_core::KafkaError::InvalidArgument {
                    field: "producer".into(),
                    reason: format!("no producer numbered {producer} on this thread"),
                })
            })?;
        let topic = p.topic_at(topic).napi()?;
        let record = RecordRef {
            topic: "",
            value: value.as_deref(),
            key: key.as_deref(),
            partition: (partition >= 0).then_some(partition),
            headers: &[],
            timestamp: (timestamp >= 0.0).then_some(timestamp as i64),
        };
        p.produce_to(topic, &record, id as u64).napi()
    })
}

#[napi]
impl NativeProducer {
    /// Creates a producer. Throws `ERR__INVALID_ARG` naming the key for bad config.
    #[napi(
        constructor,
        ts_args_type = "config: Record<string, string | number | boolean>, onDelivery: (batch: DeliveryBatch) => void, oauth?: boolean"
    )]
    pub fn new(config: Object, on_delivery: DeliveryFn, oauth: Option<bool>) -> Result<Self> {
        let cfg = crate::config::from_js(&config)?;
        // Set before librdkafka starts: it asks for the first token during
        // creation, before JS could call anything on this object.
        let sink = Arc::new(JsSink(
            on_delivery,
            std::sync::atomic::AtomicBool::new(oauth.unwrap_or(false)),
        ));
        let inner = Shared::new(Producer::new(&cfg, sink).napi()?);
        let handle = PRODUCERS.with(|t| {
            let mut t = t.borrow_mut();
            t.push(Some(inner.arc()));
            (t.len() - 1) as u32
        });
        Ok(NativeProducer { inner, handle })
    }

    /// This producer's number for [`produce_one`].
    #[napi]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The number of topic `name` for [`produce_one`]. Throws
    /// `ERR__INVALID_ARG` for a name librdkafka cannot take.
    #[napi]
    pub fn topic_id(&self, name: String) -> Result<u32> {
        self.inner.topic_id(&name).napi()
    }

    /// Hands librdkafka a token; `lifetimeMs` is the absolute expiry in ms since the epoch.
    #[napi]
    pub fn set_oauth_token(
        &self,
        token: String,
        lifetime_ms: f64,
        principal: String,
        extensions: Option<std::collections::HashMap<String, String>>,
    ) -> Result<()> {
        let ext: Vec<(String, String)> = extensions.unwrap_or_default().into_iter().collect();
        self.inner
            .set_oauth_token(&token, lifetime_ms as i64, &principal, &ext)
            .napi()
    }

    /// Tells librdkafka the token provider failed.
    #[napi]
    pub fn set_oauth_failure(&self, message: String) {
        self.inner.set_oauth_failure(&message);
    }

    /// Enqueues records packed by lib/record.js in the consumer batch's layout:
    /// `fields` 8 per record (topic index, partition or -1, key start, key
    /// length, value start, value length, first header, header count; length
    /// -1 = null), `nums` 2 per record (id, timestamp or -1), headers as
    /// `headerKeys` plus 2 per header (value start, value length). Starts at
    /// record `from`; stops early only on `ERR__QUEUE_FULL`. One crossing per
    /// chunk, and the bytes are read in place (librdkafka copies them). Runs of
    /// records without headers or timestamps go to librdkafka together
    /// (`Producer::produce_run`).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn produce_packed(
        &self,
        data: BufferSlice,
        topics: Vec<String>,
        fields: Int32ArraySlice,
        nums: Float64ArraySlice,
        header_keys: Vec<String>,
        header_fields: Int32ArraySlice,
        from: u32,
    ) -> Result<PackedResult> {
        let n = nums.len() / 2;
        if fields.len() != n * 8 {
            return Err(bad("fields length"));
        }
        // Checked whole before anything is produced, so a malformed chunk (a
        // JS-layer bug) never leaves half of it enqueued and half rejected.
        for i in from as usize..n {
            let f = &fields[i * 8..i * 8 + 8];
            topics
                .get(f[0] as usize)
                .ok_or_else(|| bad("topic index"))?;
            span(&data, f[2], f[3])?;
            span(&data, f[4], f[5])?;
            for h in f[6]..f[6] + f[7] {
                let h = h as usize;
                header_keys.get(h).ok_or_else(|| bad("header index"))?;
                let hf = header_fields
                    .get(h * 2..h * 2 + 2)
                    .ok_or_else(|| bad("header fields"))?;
                span(&data, hf[0], hf[1])?;
            }
        }
        let mut failures = Vec::new();
        let mut headers: Vec<(&str, Option<&[u8]>)> = Vec::new();
        // Resolved once per chunk: each record then skips librdkafka's topic lookup.
        let mut handles = Vec::with_capacity(topics.len());
        for t in &topics {
            handles.push(self.inner.topic(t));
        }
        // Records without headers or a timestamp (the usual ones) go to
        // librdkafka in runs, one call per run of the same topic, laid out for
        // it as they are read.
        let plain = |i: usize| fields[i * 8 + 7] == 0 && timestamp(nums[i * 2 + 1]).is_none();
        let mut i = from as usize;
        while i < n {
            let t = fields[i * 8] as usize;
            if let Ok(topic) = &handles[t] {
                let start = i;
                while i < n && fields[i * 8] as usize == t && plain(i) {
                    i += 1;
                }
                if i > start {
                    let out = self.inner.produce_run_with(*topic, i - start, |k| {
                        let (f, id) = (&fields[(start + k) * 8..], nums[(start + k) * 2]);
                        Ok::<_, napi::Error>(RunRecord {
                            key: span(&data, f[2], f[3])?,
                            value: span(&data, f[4], f[5])?,
                            partition: f[1].max(-1),
                            id: id as u64,
                        })
                    })?;
                    failures.extend(
                        out.failures
                            .iter()
                            .map(|(k, e)| DeliveryFailure::at(start + k, e)),
                    );
                    if out.done < i - start {
                        return Ok(PackedResult {
                            done: (start + out.done) as u32,
                            failures,
                        });
                    }
                    continue;
                }
            }
            let f = &fields[i * 8..i * 8 + 8];
            headers.clear();
            for h in f[6]..f[6] + f[7] {
                let h = h as usize;
                let key = header_keys.get(h).ok_or_else(|| bad("header index"))?;
                let hf = header_fields
                    .get(h * 2..h * 2 + 2)
                    .ok_or_else(|| bad("header fields"))?;
                headers.push((key.as_str(), span(&data, hf[0], hf[1])?));
            }
            let sent = match &handles[t] {
                Ok(topic) => self.inner.produce_to(
                    *topic,
                    &record_at(i, &data, &topics, &fields, &nums, &headers)?,
                    nums[i * 2] as u64,
                ),
                Err(e) => Err(e.clone()),
            };
            match sent {
                Ok(()) => {}
                Err(e) if e.code() == "ERR__QUEUE_FULL" => {
                    return Ok(PackedResult {
                        done: i as u32,
                        failures,
                    })
                }
                Err(e) => failures.push(DeliveryFailure::at(i, &e)),
            }
            i += 1;
        }
        Ok(PackedResult {
            done: n as u32,
            failures,
        })
    }

    /// Enqueues records `from..to` of sendRaw()'s columns (lib/record.js
    /// `checkRaw` has checked them; every span is checked again here, as no
    /// column may make this read outside `data`): record i gets id
    /// `firstId + i`, length -1 is null, partition -1 the partitioner's choice.
    /// One `rd_kafka_produce_batch`, laid out in one pass straight from the
    /// columns: no packed copy of them, no record struct per record. Stops
    /// early only on `ERR__QUEUE_FULL`; `done` and failure indexes count from
    /// the columns' start.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn produce_raw(
        &self,
        data: BufferSlice,
        topic: String,
        value_starts: Int32ArraySlice,
        value_lengths: Int32ArraySlice,
        key_starts: Option<Int32ArraySlice>,
        key_lengths: Option<Int32ArraySlice>,
        partitions: Option<Int32ArraySlice>,
        first_id: f64,
        from: u32,
        to: u32,
    ) -> Result<PackedResult> {
        let (from, to) = (from as usize, to as usize);
        let keys = match (&key_starts, &key_lengths) {
            (Some(s), Some(l)) => Some((&s[..], &l[..])),
            (None, None) => None,
            _ => return Err(bad("key columns")),
        };
        let long_enough = |c: &[i32]| c.len() >= to;
        if from > to
            || !long_enough(&value_starts)
            || !long_enough(&value_lengths)
            || keys.is_some_and(|(s, l)| !long_enough(s) || !long_enough(l))
            || partitions.as_deref().is_some_and(|p| !long_enough(p))
        {
            return Err(bad("column length"));
        }
        let failed = |e: &krafka_core::KafkaError| PackedResult {
            done: to as u32,
            failures: (from..to).map(|i| DeliveryFailure::at(i, e)).collect(),
        };
        let handle = match self.inner.topic(&topic) {
            Ok(t) => t,
            Err(e) => return Ok(failed(&e)),
        };
        let out = self.inner.produce_run_with(handle, to - from, |k| {
            let i = from + k;
            Ok::<_, napi::Error>(RunRecord {
                key: match keys {
                    Some((s, l)) => span(&data, s[i], l[i])?,
                    None => None,
                },
                value: span(&data, value_starts[i], value_lengths[i])?,
                partition: partitions.as_deref().map_or(-1, |p| p[i]),
                id: first_id as u64 + i as u64,
            })
        })?;
        Ok(PackedResult {
            done: (from + out.done) as u32,
            failures: out
                .failures
                .iter()
                .map(|(k, e)| DeliveryFailure::at(from + k, e))
                .collect(),
        })
    }

    /// Records not yet acknowledged by the broker.
    #[napi]
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight()
    }

    /// Waits (off the event loop) until all in-flight records are delivered.
    /// Rejects with `ERR__TIMED_OUT` after `timeoutMs`.
    #[napi]
    pub async fn flush(&self, timeout_ms: u32) -> Result<()> {
        let p = self.inner.arc();
        crate::error::blocking(move || p.flush(Duration::from_millis(timeout_ms.into()))).await
    }

    /// Transactions: `initTransactions`.
    #[napi]
    pub async fn init_transactions(&self, timeout_ms: u32) -> Result<()> {
        let p = self.inner.arc();
        crate::error::blocking(move || {
            p.init_transactions(Duration::from_millis(timeout_ms.into()))
        })
        .await
    }

    /// Transactions: `beginTransaction`.
    #[napi]
    pub fn begin_transaction(&self) -> Result<()> {
        self.inner.begin_transaction().napi()
    }

    /// Transactions: `commitTransaction`.
    #[napi]
    pub async fn commit_transaction(&self, timeout_ms: u32) -> Result<()> {
        let p = self.inner.arc();
        crate::error::blocking(move || {
            p.commit_transaction(Duration::from_millis(timeout_ms.into()))
        })
        .await
    }

    /// Transactions: `abortTransaction`.
    #[napi]
    pub async fn abort_transaction(&self, timeout_ms: u32) -> Result<()> {
        let p = self.inner.arc();
        crate::error::blocking(move || {
            p.abort_transaction(Duration::from_millis(timeout_ms.into()))
        })
        .await
    }

    /// Transactions: commits `offsets` (next offsets to read) for `consumer`'s group in this transaction.
    #[napi]
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: Vec<crate::consumer::TopicPartition>,
        consumer: &crate::consumer::NativeConsumer,
        timeout_ms: u32,
    ) -> Result<()> {
        let p = self.inner.arc();
        let c = consumer.core();
        let o: Vec<krafka_core::TopicPartitionOffset> =
            offsets.into_iter().map(Into::into).collect();
        crate::error::blocking(move || {
            p.send_offsets_to_transaction(&o, &c, Duration::from_millis(timeout_ms.into()))
        })
        .await
    }

    /// Flushes, then stops delivery once every report was handed to JS.
    #[napi]
    pub async fn close(&self, timeout_ms: u32) -> Result<()> {
        let p = self.inner.arc();
        crate::error::blocking(move || p.close(Duration::from_millis(timeout_ms.into()))).await
    }
}
