//! `NativeConsumer`: the core consumer behind a napi class.
//!
//! One `pollBatch` call = one native crossing for up to `maxMessages`
//! messages. The blocking poll runs on tokio's blocking pool, never on the
//! libuv threadpool, so any number of consumers make progress at once.
//! A batch crosses as a few arrays (see [`Batch`]), not as message objects.
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use krafka_core::consumer::OAuthToken;
use krafka_core::{Consumer, ConsumerListener, KafkaError, RebalanceEvent, TopicPartitionOffset};
use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::client::Shared;
use crate::error::{encode, IntoNapi};

/// An event for the JS layer (lib/consumer.js): a rebalance (`seq` > 0, answer with
/// `rebalanceDone(seq)`), an OAUTHBEARER token request (answer with `oauthDone(seq, ...)`),
/// or a client error, log line or statistics (`seq` = 0, no answer).
#[napi(object)]
pub struct ConsumerEvent {
    /// Sequence number to acknowledge; 0 for errors.
    pub seq: f64,
    /// Rebalances: number of the poll it happened in (`NativeBatch.poll`); 0 otherwise.
    pub poll: f64,
    /// "assigned", "revoked", "lost", "error", "log", "oauth" or "stats".
    pub kind: String,
    /// Partitions concerned (rebalances only).
    pub partitions: Vec<TopicPartition>,
    /// Encoded error (errors only).
    pub error: Option<String>,
    /// A librdkafka log line (kind "log" only).
    pub log: Option<crate::producer::LogEntry>,
    /// `sasl.oauthbearer.config` (kind "oauth" only; answer with `oauthDone(seq, ...)`).
    pub oauth_config: Option<String>,
    /// librdkafka's statistics JSON (kind "stats" only).
    pub stats: Option<String>,
}

impl ConsumerEvent {
    /// An event of this kind with every optional part empty.
    fn of(kind: &str) -> Self {
        ConsumerEvent {
            seq: 0.0,
            poll: 0.0,
            kind: kind.into(),
            partitions: Vec::new(),
            error: None,
            log: None,
            oauth_config: None,
            stats: None,
        }
    }
}

type EventFn = ThreadsafeFunction<ConsumerEvent, (), ConsumerEvent, Status, false, true>;

/// How long a revocation waits for the app's hook at most, so a hook that
/// never settles cannot wedge the group forever.
const HOOK_TIMEOUT: Duration = Duration::from_secs(300);

/// Bridges core group events to JS and waits for rebalance hooks to finish.
struct JsListener {
    tsfn: EventFn,
    hooks: AtomicBool,
    next: AtomicU64,
    done: Mutex<HashSet<u64>>,
    cv: Condvar,
    oauth: AtomicBool,
    tokens: Mutex<std::collections::HashMap<u64, std::result::Result<OAuthToken, String>>>,
    tokens_cv: Condvar,
}

impl JsListener {
    fn finish(&self, seq: u64) {
        if let Ok(mut d) = self.done.lock() {
            d.insert(seq);
            self.cv.notify_all();
        }
    }
}

impl ConsumerListener for JsListener {
    fn on_rebalance(
        &self,
        event: RebalanceEvent,
        partitions: Vec<TopicPartitionOffset>,
        poll: u64,
    ) {
        if !self.hooks.load(Ordering::Acquire) {
            return;
        }
        let seq = self.next.fetch_add(1, Ordering::AcqRel) + 1;
        let kind = match event {
            RebalanceEvent::Assigned => "assigned",
            RebalanceEvent::Revoked => "revoked",
            RebalanceEvent::Lost => "lost",
        };
        let ev = ConsumerEvent {
            seq: seq as f64,
            poll: poll as f64,
            partitions: partitions.into_iter().map(Into::into).collect(),
            ..ConsumerEvent::of(kind)
        };
        if self.tsfn.call(ev, ThreadsafeFunctionCallMode::Blocking) != Status::Ok {
            return; // Node is shutting down: nobody will answer.
        }
        let Ok(mut done) = self.done.lock() else {
            return;
        };
        let deadline = std::time::Instant::now() + HOOK_TIMEOUT;
        while !done.remove(&seq) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            done = match self.cv.wait_timeout(done, left) {
                Ok((d, _)) => d,
                Err(_) => return,
            };
        }
    }

    fn on_error(&self, error: KafkaError) {
        let ev = ConsumerEvent {
            error: Some(encode(&error)),
            ..ConsumerEvent::of("error")
        };
        self.tsfn.call(ev, ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn on_oauth_refresh(&self, config: Option<&str>) -> std::result::Result<OAuthToken, String> {
        if !self.oauth.load(Ordering::Acquire) {
            return Err("no OAUTHBEARER token provider: pass oauth_cb in the config".into());
        }
        let seq = self.next.fetch_add(1, Ordering::AcqRel) + 1;
        let ev = ConsumerEvent {
            seq: seq as f64,
            oauth_config: Some(config.unwrap_or_default().to_string()),
            ..ConsumerEvent::of("oauth")
        };
        if self.tsfn.call(ev, ThreadsafeFunctionCallMode::Blocking) != Status::Ok {
            return Err("Node is shutting down".into());
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut tokens = self.tokens.lock().map_err(|_| "poisoned".to_string())?;
        loop {
            if let Some(r) = tokens.remove(&seq) {
                return r;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err("oauth_cb did not answer within 60 s".into());
            }
            tokens = self
                .tokens_cv
                .wait_timeout(tokens, left)
                .map_err(|_| "poisoned".to_string())?
                .0;
        }
    }

    fn on_log(&self, line: krafka_core::LogLine) {
        let log = crate::producer::LogEntry {
            level: line.level,
            facility: line.facility,
            message: line.message,
        };
        let ev = ConsumerEvent {
            log: Some(log),
            ..ConsumerEvent::of("log")
        };
        self.tsfn.call(ev, ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn on_stats(&self, json: String) {
        let ev = ConsumerEvent {
            stats: Some(json),
            ..ConsumerEvent::of("stats")
        };
        self.tsfn.call(ev, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// A topic partition with an optional offset.
#[napi(object)]
pub struct TopicPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset; null/undefined when unknown (or "use the committed offset" for `assign`).
    pub offset: Option<i64>,
}

impl From<TopicPartition> for TopicPartitionOffset {
    fn from(t: TopicPartition) -> Self {
        TopicPartitionOffset {
            topic: t.topic,
            partition: t.partition,
            offset: t.offset,
        }
    }
}

impl From<TopicPartitionOffset> for TopicPartition {
    fn from(t: TopicPartitionOffset) -> Self {
        TopicPartition {
            topic: t.topic,
            partition: t.partition,
            offset: t.offset,
        }
    }
}

/// Watermark offsets of a partition.
#[napi(object)]
pub struct Watermarks {
    /// Earliest available offset.
    pub low: i64,
    /// Offset the next produced message will get.
    pub high: i64,
}

/// A batch of consumed messages in columns, as the core lays it out
/// (`krafka_core::batch`). lib/consumer.js builds message objects from it, or hands
/// it out as is (`rawBatches()`); keys and values are views into `data`.
#[napi(object)]
#[allow(dead_code)] // for typing only: built by `Batch::to_napi_value`
pub struct NativeBatch {
    /// Every key, value and header value, back to back.
    pub data: Buffer,
    /// Distinct topics; `fields` refers to them by index.
    pub topics: Vec<String>,
    /// 8 per message: topic index, partition, key start, key length, value
    /// start, value length, first header, header count (length -1 = null).
    pub fields: Int32Array,
    /// 2 per message: offset, timestamp (NaN when unknown).
    pub nums: Float64Array,
    /// Header keys in order; absent when no message has headers.
    pub header_keys: Option<Vec<String>>,
    /// 2 per header: value start, value length (-1 = null); absent when no
    /// message has headers.
    pub header_fields: Option<Int32Array>,
    /// Number of the poll that filled it (rebalance events carry the same numbers).
    pub poll: f64,
    /// Filled by a poll started before `positionsChanged()`: not to be
    /// handed out; its partitions go back to their first rows.
    pub stale: bool,
}

/// The core batch, handed to JS as a `NativeBatch`: two ArrayBuffers per
/// batch (three with headers) whatever its size, each copied once (copies
/// beat external memory for GC cost, see shared/DESIGN.md).
pub struct Batch(krafka_core::MessageBatch, bool);

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let b = val.0;
        // `nums` and `fields` share one ArrayBuffer (nums first, so both are
        // aligned): one ArrayBuffer object fewer per batch for young GCs.
        let n_nums = b.len() * 2;
        let mut cols = Vec::with_capacity(n_nums * 8 + b.fields.len() * 4);
        for (o, t) in b.offsets.iter().zip(&b.timestamps) {
            cols.extend_from_slice(&(*o as f64).to_ne_bytes());
            cols.extend_from_slice(&t.map_or(f64::NAN, |t| t as f64).to_ne_bytes());
        }
        for f in &b.fields {
            cols.extend_from_slice(&f.to_ne_bytes());
        }
        let cols = ArrayBuffer::copy_from(&env, &cols)?;
        let mut o = Object::new(&env)?;
        o.set("data", BufferSlice::copy_from(&env, &b.data)?)?;
        o.set("topics", b.topics)?;
        o.set(
            "fields",
            Int32ArraySlice::from_arraybuffer(&cols, n_nums * 8, b.fields.len())?,
        )?;
        o.set(
            "nums",
            Float64ArraySlice::from_arraybuffer(&cols, 0, n_nums)?,
        )?;
        // Most batches have no headers: two fewer objects for every young GC to copy.
        if !b.header_keys.is_empty() {
            o.set("headerKeys", b.header_keys)?;
            o.set(
                "headerFields",
                Int32ArraySlice::copy_from(&env, &b.header_fields)?,
            )?;
        }
        o.set("poll", b.poll as f64)?;
        o.set("stale", val.1)?;
        Object::to_napi_value(raw_env, o)
    }
}

impl TypeName for Batch {
    fn type_name() -> &'static str {
        "NativeBatch"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// Low-level consumer used by lib/consumer.js's `Consumer`.
#[napi]
pub struct NativeConsumer {
    inner: Shared<Consumer>,
    listener: Arc<JsListener>,
    /// The next batch, being filled since the last one was taken (see `poll_batch`).
    chained: Mutex<Option<Chained>>,
    /// Bumped by `positionsChanged()`: a batch whose poll started before is stale.
    positions: AtomicU64,
}

type PollTask = tokio::task::JoinHandle<krafka_core::Result<krafka_core::MessageBatch>>;

/// A poll started ahead, and the `positions` count when it started.
struct Chained(PollTask, u64);

/// A polled batch waiting for `openBatch()`, and the `positions` count when its poll started.
pub struct Polled(krafka_core::MessageBatch, u64);

impl NativeConsumer {
    /// Starts a poll on a worker thread, noting the `positions` count at its start.
    fn start_poll(&self, max: usize, wait: Duration) -> Chained {
        let c = self.inner.arc();
        Chained(
            tokio::task::spawn_blocking(move || c.poll_batch(max, wait)),
            self.positions.load(Ordering::Acquire),
        )
    }

    /// The shared core consumer (for transactional producers).
    pub fn core(&self) -> Arc<Consumer> {
        self.inner.arc()
    }
}

#[napi]
impl NativeConsumer {
    /// Creates a consumer. Throws `ERR__INVALID_ARG` naming the key for bad config.
    #[napi(
        constructor,
        ts_args_type = "config: Record<string, string | number | boolean>, onEvent: (event: ConsumerEvent) => void, oauth?: boolean"
    )]
    pub fn new(config: Object, on_event: EventFn, oauth: Option<bool>) -> Result<Self> {
        let cfg = crate::config::from_js(&config)?;
        let listener = Arc::new(JsListener {
            tsfn: on_event,
            hooks: AtomicBool::new(false),
            next: AtomicU64::new(0),
            done: Mutex::new(HashSet::new()),
            cv: Condvar::new(),
            // Set before librdkafka starts: it asks for the first token
            // during creation, before JS could call anything on this object.
            oauth: AtomicBool::new(oauth.unwrap_or(false)),
            tokens: Mutex::new(std::collections::HashMap::new()),
            tokens_cv: Condvar::new(),
        });
        let inner =
            Consumer::new(&cfg, Some(listener.clone() as Arc<dyn ConsumerListener>)).napi()?;
        Ok(NativeConsumer {
            inner: Shared::new(inner),
            listener,
            chained: Mutex::new(None),
            positions: AtomicU64::new(0),
        })
    }

    /// Turns rebalance events on (when the app registered hooks).
    #[napi]
    pub fn set_rebalance_hooks(&self, enabled: bool) {
        self.listener.hooks.store(enabled, Ordering::Release);
    }

    /// Answers oauth event `seq` with a token (lifetimeMs = absolute expiry) or an error.
    #[napi]
    pub fn oauth_done(
        &self,
        seq: f64,
        token: Option<String>,
        lifetime_ms: Option<f64>,
        principal: Option<String>,
        error: Option<String>,
    ) {
        let r = match (token, error) {
            (Some(token), None) => Ok(OAuthToken {
                token,
                principal_name: principal.unwrap_or_default(),
                lifetime_ms: lifetime_ms.unwrap_or(0.0) as i64,
            }),
            (_, e) => Err(e.unwrap_or_else(|| "oauth_cb returned no token".into())),
        };
        if let Ok(mut t) = self.listener.tokens.lock() {
            t.insert(seq as u64, r);
            self.listener.tokens_cv.notify_all();
        }
    }

    /// Acknowledges rebalance event `seq`: the app's hook has finished.
    #[napi]
    pub fn rebalance_done(&self, seq: f64) {
        self.listener.finish(seq as u64);
    }

    /// Subscribes (group-managed). A topic starting with `^` is a regex.
    #[napi]
    pub fn subscribe(&self, topics: Vec<String>) -> Result<()> {
        self.inner.subscribe(&topics).napi()
    }

    /// Manual assignment.
    #[napi]
    pub fn assign(&self, partitions: Vec<TopicPartition>) -> Result<()> {
        let p: Vec<TopicPartitionOffset> = partitions.into_iter().map(Into::into).collect();
        self.inner.assign(&p).napi()
    }

    /// Up to `maxMessages` messages; waits at most `maxWaitMs` for the first one.
    /// With `chain`, when this batch came back full, the next poll starts on a
    /// worker thread the moment this one is done, not when JS asks for it: the
    /// hop to JS and back took ~10 % of consumption time. The next call takes
    /// that poll's batch.
    /// The batch stays in Rust until `openBatch()`: made into JS arrays only
    /// when it is processed, a batch read ahead does not live through young
    /// GCs waiting its turn (its buffer would then be promoted and held until
    /// a full GC: `arrayBuffers` reached 50-62 MB with 2,000-message batches,
    /// ~15 MB now).
    #[napi(ts_return_type = "Promise<ExternalObject<NativeBatch>>")]
    pub async fn poll_batch(
        &self,
        max_messages: u32,
        max_wait_ms: u32,
        chain: Option<bool>,
    ) -> Result<External<Option<Polled>>> {
        let (max, wait) = (
            max_messages.max(1) as usize,
            Duration::from_millis(max_wait_ms.into()),
        );
        let taken = self.chained.lock().ok().and_then(|mut g| g.take());
        let Chained(task, positions) = match taken {
            Some(t) => t,
            None => self.start_poll(max, wait),
        };
        let batch = task.await.map_err(crate::error::join_error)?.napi()?;
        let stale = positions != self.positions.load(Ordering::Acquire);
        // Only with a backlog (a full batch): at low rates the next message
        // would come alone, and a chained poll returning it at once only
        // added per-batch work (end-to-end p50 +0.1 ms).
        if chain == Some(true) && !stale && batch.len() >= max {
            let next = self.start_poll(max, wait);
            if let Ok(mut g) = self.chained.lock() {
                *g = Some(next);
            }
        }
        Ok(External::new(Some(Polled(batch, positions))))
    }

    /// The columns of a batch from `pollBatch()`; once per batch. It is
    /// `stale` when `positionsChanged()` was called since its poll started,
    /// up to now: the one place that decides it.
    #[napi(
        ts_args_type = "polled: ExternalObject<NativeBatch>",
        ts_return_type = "NativeBatch"
    )]
    pub fn open_batch(&self, polled: &mut External<Option<Polled>>) -> Result<Batch> {
        let now = self.positions.load(Ordering::Acquire);
        polled
            .take()
            .map(|Polled(b, started)| Batch(b, started != now))
            .ok_or_else(|| {
                crate::error::to_napi(krafka_core::KafkaError::InvalidArgument {
                    field: "openBatch".into(),
                    reason: "this batch was already opened".into(),
                })
            })
    }

    /// seek/pause/resume/assign happened: a poll already started (chained
    /// or not) yields a batch marked `stale`.
    #[napi]
    pub fn positions_changed(&self) {
        self.positions.fetch_add(1, Ordering::AcqRel);
    }

    /// Stores next-offsets of processed messages for the next commit.
    #[napi]
    pub fn store_offsets(&self, offsets: Vec<TopicPartition>) -> Result<()> {
        let o: Vec<TopicPartitionOffset> = offsets.into_iter().map(Into::into).collect();
        self.inner.store_offsets(&o).napi()
    }

    /// Commits the given offsets, or all stored ones; resolves when the broker has them.
    #[napi]
    pub async fn commit(&self, offsets: Option<Vec<TopicPartition>>) -> Result<()> {
        let c = self.inner.arc();
        let o: Option<Vec<TopicPartitionOffset>> =
            offsets.map(|v| v.into_iter().map(Into::into).collect());
        crate::error::blocking(move || c.commit(o.as_deref())).await
    }

    /// Committed offsets of the group.
    #[napi]
    pub async fn committed(
        &self,
        partitions: Vec<TopicPartition>,
        timeout_ms: u32,
    ) -> Result<Vec<TopicPartition>> {
        let c = self.inner.arc();
        let p: Vec<TopicPartitionOffset> = partitions.into_iter().map(Into::into).collect();
        let r = crate::error::blocking(move || {
            c.committed(&p, Duration::from_millis(timeout_ms.into()))
        })
        .await?;
        Ok(r.into_iter().map(Into::into).collect())
    }

    /// Current assignment.
    #[napi]
    pub fn assignment(&self) -> Result<Vec<TopicPartition>> {
        Ok(self
            .inner
            .assignment()
            .napi()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Low/high watermarks of a partition.
    #[napi]
    pub async fn query_watermark_offsets(
        &self,
        topic: String,
        partition: i32,
        timeout_ms: u32,
    ) -> Result<Watermarks> {
        let c = self.inner.arc();
        let (low, high) = crate::error::blocking(move || {
            c.watermarks(&topic, partition, Duration::from_millis(timeout_ms.into()))
        })
        .await?;
        Ok(Watermarks { low, high })
    }

    /// Moves fetch positions (`offset` null = beginning).
    #[napi]
    pub async fn seek(&self, partitions: Vec<TopicPartition>, timeout_ms: u32) -> Result<()> {
        let c = self.inner.arc();
        let p: Vec<TopicPartitionOffset> = partitions.into_iter().map(Into::into).collect();
        crate::error::blocking(move || c.seek(&p, Duration::from_millis(timeout_ms.into()))).await
    }

    /// Pauses fetching from these partitions.
    #[napi]
    pub fn pause(&self, partitions: Vec<TopicPartition>) -> Result<()> {
        let p: Vec<TopicPartitionOffset> = partitions.into_iter().map(Into::into).collect();
        self.inner.pause(&p).napi()
    }

    /// Resumes paused partitions.
    #[napi]
    pub fn resume(&self, partitions: Vec<TopicPartition>) -> Result<()> {
        let p: Vec<TopicPartitionOffset> = partitions.into_iter().map(Into::into).collect();
        self.inner.resume(&p).napi()
    }

    /// Fetch positions of the assigned partitions.
    #[napi]
    pub fn position(&self) -> Result<Vec<TopicPartition>> {
        Ok(self
            .inner
            .position()
            .napi()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Leaves the group and releases the member. Idempotent.
    #[napi]
    pub async fn close(&self) -> Result<()> {
        let c = self.inner.arc();
        crate::error::blocking(move || c.close()).await
    }
}
