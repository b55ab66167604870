//! `NativeConsumer`: the core consumer behind a napi class.
//!
//! One `pollBatch` call = one native crossing for up to `maxMessages`
//! messages. The blocking poll runs on tokio's blocking pool, never on the
//! libuv threadpool, so any number of consumers make progress at once.
//! Keys and values become Buffers copied into V8's heap
//! (`napi_create_buffer_copy`), measured faster than external Buffers
//! because of GC cost (see shared/DESIGN.md).
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use krafka_core::consumer::OAuthToken;
use krafka_core::{
    Consumer, ConsumerListener, KafkaError, Message, RebalanceEvent, TopicPartitionOffset,
};
use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::error::{encode, IntoNapi};

/// A group event for krafka.js: a rebalance (`seq` > 0, answer with
/// `rebalanceDone(seq)`) or a client error (`seq` = 0, no answer).
#[napi(object)]
pub struct ConsumerEvent {
    /// Sequence number to acknowledge; 0 for errors.
    pub seq: f64,
    /// "assigned", "revoked", "lost" or "error".
    pub kind: String,
    /// Partitions concerned (rebalances only).
    pub partitions: Vec<TopicPartition>,
    /// Encoded error (errors only).
    pub error: Option<String>,
    /// A librdkafka log line (kind "log" only).
    pub log: Option<crate::producer::LogEntry>,
    /// `sasl.oauthbearer.config` (kind "oauth" only; answer with `oauthDone(seq, ...)`).
    pub oauth_config: Option<String>,
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
    fn on_rebalance(&self, event: RebalanceEvent, partitions: Vec<TopicPartitionOffset>) {
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
            kind: kind.into(),
            partitions: partitions.into_iter().map(Into::into).collect(),
            error: None,
            log: None,
            oauth_config: None,
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
            seq: 0.0,
            kind: "error".into(),
            partitions: Vec::new(),
            error: Some(encode(&error)),
            log: None,
            oauth_config: None,
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
            kind: "oauth".into(),
            partitions: Vec::new(),
            error: None,
            log: None,
            oauth_config: Some(config.unwrap_or_default().to_string()),
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
            seq: 0.0,
            kind: "log".into(),
            partitions: Vec::new(),
            error: None,
            log: Some(log),
            oauth_config: None,
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

/// A consumed header (for typing; built directly in [`MessageBatch`]).
#[napi(object)]
#[allow(dead_code)]
pub struct NativeMessageHeader {
    /// Header key.
    pub key: String,
    /// Header value, null when absent.
    pub value: Option<Buffer>,
}

/// A consumed message (for typing; built directly in [`MessageBatch`]).
#[napi(object)]
#[allow(dead_code)]
pub struct NativeMessage {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset (a number: exact below 2^53).
    pub offset: i64,
    /// Key, null when absent.
    pub key: Option<Buffer>,
    /// Value, null for a tombstone.
    pub value: Option<Buffer>,
    /// Headers in order.
    pub headers: Vec<NativeMessageHeader>,
    /// Timestamp in ms since the epoch, null when unknown.
    pub timestamp: Option<i64>,
}

/// A batch of messages, converted to JS objects on the JS thread.
pub struct MessageBatch(Vec<Message>);

fn opt_bytes(env: &Env, b: Option<&Vec<u8>>) -> Result<Either<BufferSlice<'static>, Null>> {
    Ok(match b {
        // SAFETY of 'static: the slice value is handed to V8 immediately in to_napi_value.
        Some(v) => Either::A(unsafe {
            std::mem::transmute::<BufferSlice<'_>, BufferSlice<'static>>(BufferSlice::copy_from(
                env, v,
            )?)
        }),
        None => Either::B(Null),
    })
}

impl ToNapiValue for MessageBatch {
    unsafe fn to_napi_value(raw_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env = Env::from_raw(raw_env);
        let mut out = Vec::with_capacity(val.0.len());
        for m in val.0 {
            let mut o = Object::new(&env)?;
            o.set("topic", m.topic)?;
            o.set("partition", m.partition)?;
            o.set("offset", m.offset)?;
            o.set("key", opt_bytes(&env, m.key.as_ref())?)?;
            o.set("value", opt_bytes(&env, m.value.as_ref())?)?;
            let mut headers = Vec::with_capacity(m.headers.len());
            for h in &m.headers {
                let mut ho = Object::new(&env)?;
                ho.set("key", h.key.as_str())?;
                ho.set("value", opt_bytes(&env, h.value.as_ref())?)?;
                headers.push(ho);
            }
            o.set("headers", headers)?;
            o.set("timestamp", m.timestamp.map_or(Either::B(Null), Either::A))?;
            out.push(o);
        }
        Vec::to_napi_value(raw_env, out)
    }
}

impl TypeName for MessageBatch {
    fn type_name() -> &'static str {
        "Array<NativeMessage>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// Low-level consumer used by krafka.js's `Consumer`.
#[napi]
pub struct NativeConsumer {
    inner: Arc<Consumer>,
    listener: Arc<JsListener>,
}

impl NativeConsumer {
    /// The shared core consumer (for transactional producers).
    pub fn core(&self) -> Arc<Consumer> {
        self.inner.clone()
    }
}

#[napi]
impl NativeConsumer {
    /// Creates a consumer. Throws `ERR__INVALID_ARG` naming the key for bad config.
    #[napi(
        constructor,
        ts_args_type = "config: Record<string, string | number | boolean>, onEvent: (event: ConsumerEvent) => void"
    )]
    pub fn new(config: Object, on_event: EventFn) -> Result<Self> {
        let cfg = crate::config::from_js(&config)?;
        let listener = Arc::new(JsListener {
            tsfn: on_event,
            hooks: AtomicBool::new(false),
            next: AtomicU64::new(0),
            done: Mutex::new(HashSet::new()),
            cv: Condvar::new(),
            oauth: AtomicBool::new(false),
            tokens: Mutex::new(std::collections::HashMap::new()),
            tokens_cv: Condvar::new(),
        });
        let inner =
            Consumer::new(&cfg, Some(listener.clone() as Arc<dyn ConsumerListener>)).napi()?;
        Ok(NativeConsumer {
            inner: Arc::new(inner),
            listener,
        })
    }

    /// Turns rebalance events on (when the app registered hooks).
    #[napi]
    pub fn set_rebalance_hooks(&self, enabled: bool) {
        self.listener.hooks.store(enabled, Ordering::Release);
    }

    /// Routes SASL/OAUTHBEARER token refreshes to JS (`oauth_cb`).
    #[napi]
    pub fn enable_oauth(&self) {
        self.listener.oauth.store(true, Ordering::Release);
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
    #[napi(ts_return_type = "Promise<Array<NativeMessage>>")]
    pub async fn poll_batch(&self, max_messages: u32, max_wait_ms: u32) -> Result<MessageBatch> {
        let c = self.inner.clone();
        let msgs = crate::error::blocking(move || {
            c.poll_batch(
                max_messages.max(1) as usize,
                Duration::from_millis(max_wait_ms.into()),
            )
        })
        .await?;
        Ok(MessageBatch(msgs))
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
        let c = self.inner.clone();
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
        let c = self.inner.clone();
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
        let c = self.inner.clone();
        let (low, high) = crate::error::blocking(move || {
            c.watermarks(&topic, partition, Duration::from_millis(timeout_ms.into()))
        })
        .await?;
        Ok(Watermarks { low, high })
    }

    /// Moves fetch positions (`offset` null = beginning).
    #[napi]
    pub async fn seek(&self, partitions: Vec<TopicPartition>, timeout_ms: u32) -> Result<()> {
        let c = self.inner.clone();
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
        let c = self.inner.clone();
        crate::error::blocking(move || c.close()).await
    }
}
