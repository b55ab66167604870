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

use rdkafka::producer::{BaseProducer, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::config::{ClientKind, Config};
use crate::consumer::Consumer;
use crate::error::{KafkaError, Result};
use crate::kerberos::Identity;
use crate::record::{ProduceRecord, RecordRef, TopicPartitionOffset};

/// Delivery reports that arrived together, as parallel columns (entry `i` of
/// each is one record). Why columns: a binding hands a batch on as a few
/// arrays, and the delivery thread allocates nothing per record.
#[derive(Debug, Default)]
pub struct DeliveryReports {
    /// The ids the caller passed to [`Producer::produce`].
    pub ids: Vec<u64>,
    /// Partition the record landed on (or was meant for).
    pub partitions: Vec<i32>,
    /// Offset assigned by the broker; -1 on error.
    pub offsets: Vec<i64>,
    /// Timestamp of the record in ms; -1 when unknown.
    pub timestamps: Vec<i64>,
    /// Records that failed, in order: (index into the columns, error naming the topic).
    pub failures: Vec<(usize, KafkaError)>,
}

impl DeliveryReports {
    /// Number of reports.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No reports.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The same reports in order, in batches of at most `max` (each failure
    /// index counted from the start of its batch).
    pub fn split(self, max: usize) -> Vec<DeliveryReports> {
        let (n, max) = (self.len(), max.max(1));
        if n <= max {
            return vec![self];
        }
        let mut failures = self.failures.into_iter().peekable();
        (0..n)
            .step_by(max)
            .map(|start| {
                let end = n.min(start + max);
                DeliveryReports {
                    ids: self.ids[start..end].to_vec(),
                    partitions: self.partitions[start..end].to_vec(),
                    offsets: self.offsets[start..end].to_vec(),
                    timestamps: self.timestamps[start..end].to_vec(),
                    failures: std::iter::from_fn(|| failures.next_if(|(i, _)| *i < end))
                        .map(|(i, e)| (i - start, e))
                        .collect(),
                }
            })
            .collect()
    }
}

/// Receives delivery reports in batches, on krafka's delivery thread.
pub trait DeliverySink: Send + Sync + 'static {
    /// Called with the reports that arrived since the last call, in order, at
    /// most 1,000 at a time; never empty.
    fn deliver(&self, reports: DeliveryReports);
    /// A client-level error (broker down, authentication failed, ...). Default: ignored.
    fn error(&self, _error: KafkaError) {}
    /// A librdkafka log line (secrets redacted). Default: ignored.
    fn log(&self, _line: crate::record::LogLine) {}
    /// librdkafka's statistics, as its JSON text (every
    /// `statistics.interval.ms`; see librdkafka's STATISTICS.md). Default: ignored.
    fn stats(&self, _json: String) {}
    /// SASL/OAUTHBEARER needs a (new) token: return `true` if the app will
    /// answer with [`Producer::set_oauth_token`] or [`Producer::set_oauth_failure`].
    /// Default: no token provider.
    fn oauth_refresh(&self, _oauthbearer_config: Option<String>) -> bool {
        false
    }
}

/// librdkafka context. Delivery reports never reach `delivery()` in normal
/// operation: krafka's own event thread takes them off the queue (see
/// [`serve_events`]); only rdkafka's drop-time purge lands here.
struct Context;

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = usize;

    fn delivery(&self, _result: &DeliveryResult<'_>, _id: Self::DeliveryOpaque) {}
}

/// Reports per call to the sink at most, so a binding's work per call stays
/// bounded. Node, for one, runs the microtasks of one call before the next:
/// the promises a call settled, and the report arrays of completed
/// `sendBatch()`es, are garbage before the next call makes more, instead of
/// all of them living through a young GC that falls inside one long call.
const MAX_REPORTS_PER_BATCH: usize = 1000;

/// Hands `batch` to the sink, MAX_REPORTS_PER_BATCH reports at a time.
fn deliver(sink: &dyn DeliverySink, batch: &mut DeliveryReports) {
    for part in std::mem::take(batch).split(MAX_REPORTS_PER_BATCH) {
        sink.deliver(part);
    }
}

/// The delivery thread: waits on librdkafka's main queue and returns as soon
/// as events arrive (rdkafka's `poll` would sleep out its whole timeout),
/// gathers every delivery report that is ready, and hands them to the sink
/// (at most MAX_REPORTS_PER_BATCH per call). Runs until stopped *and* nothing is left in flight.
fn serve_events(
    producer: &BaseProducer<Context>,
    sink: &dyn DeliverySink,
    stop: &AtomicBool,
    id: Option<&Identity>,
    secrets: &[String],
) {
    use rdkafka::bindings as rd;
    let rk = producer.client().native_ptr();
    // SAFETY: rk is valid while `producer` lives; the queue reference is released below.
    let queue = unsafe { rd::rd_kafka_queue_get_main(rk) };
    let mut batch = DeliveryReports::default();
    let mut stopped_at: Option<std::time::Instant> = None;
    loop {
        if stop.load(Ordering::Acquire) {
            // After close(): drain what is left, but never hang on it.
            let since = *stopped_at.get_or_insert_with(std::time::Instant::now);
            if producer.in_flight_count() == 0
                || since.elapsed() > std::time::Duration::from_secs(10)
            {
                break;
            }
        }
        let mut timeout_ms = 100;
        loop {
            // SAFETY: queue is a valid queue handle; a returned event is destroyed below.
            let ev = unsafe { rd::rd_kafka_queue_poll(queue, timeout_ms) };
            if ev.is_null() {
                break;
            }
            timeout_ms = 0; // drain what is ready, then deliver it in batches
                            // SAFETY: ev is a live event until rd_kafka_event_destroy.
            unsafe {
                match rd::rd_kafka_event_type(ev) {
                    rd::RD_KAFKA_EVENT_DR => read_reports(ev, &mut batch),
                    rd::RD_KAFKA_EVENT_ERROR => {
                        let code = RDKafkaErrorCode::from(rd::rd_kafka_event_error(ev));
                        let reason = std::ffi::CStr::from_ptr(rd::rd_kafka_event_error_string(ev))
                            .to_string_lossy();
                        let mut e = KafkaError::from_code(code, "producer");
                        if let KafkaError::Kafka { message, fatal, .. } = &mut e {
                            *message = reason.trim().to_string();
                            *fatal = rd::rd_kafka_event_error_is_fatal(ev) != 0;
                        }
                        if let KafkaError::Kafka { message, .. } = &mut e {
                            *message = crate::config::redact_secrets(secrets, message);
                        }
                        sink.error(crate::kerberos::refine(e, id));
                    }
                    rd::RD_KAFKA_EVENT_OAUTHBEARER_TOKEN_REFRESH => {
                        let cfg = rd::rd_kafka_event_config_string(ev);
                        let cfg = (!cfg.is_null())
                            .then(|| std::ffi::CStr::from_ptr(cfg).to_string_lossy().into_owned());
                        if !sink.oauth_refresh(cfg) {
                            rd::rd_kafka_oauthbearer_set_token_failure(
                                rk,
                                c"no OAUTHBEARER token provider: pass oauth_cb in the config"
                                    .as_ptr(),
                            );
                        }
                    }
                    rd::RD_KAFKA_EVENT_LOG => {
                        let (mut fac, mut msg, mut level) = (std::ptr::null(), std::ptr::null(), 0);
                        if rd::rd_kafka_event_log(ev, &mut fac, &mut msg, &mut level) == 0
                            && !msg.is_null()
                        {
                            let text = std::ffi::CStr::from_ptr(msg).to_string_lossy();
                            sink.log(crate::record::LogLine {
                                level,
                                facility: if fac.is_null() {
                                    String::new()
                                } else {
                                    std::ffi::CStr::from_ptr(fac).to_string_lossy().into_owned()
                                },
                                message: crate::config::redact_secrets(secrets, &text),
                            });
                        }
                    }
                    rd::RD_KAFKA_EVENT_STATS => {
                        let json = rd::rd_kafka_event_stats(ev);
                        if !json.is_null() {
                            sink.stats(
                                std::ffi::CStr::from_ptr(json)
                                    .to_string_lossy()
                                    .into_owned(),
                            );
                        }
                    }
                    _ => {}
                }
                rd::rd_kafka_event_destroy(ev);
            }
            // Hand reports on at least every MAX_REPORTS_PER_BATCH (checked
            // per event: one DR event can hold thousands), so the sink starts
            // on them while this thread reads on.
            if batch.len() >= MAX_REPORTS_PER_BATCH {
                deliver(sink, &mut batch);
            }
        }
        if !batch.is_empty() {
            deliver(sink, &mut batch);
        }
    }
    // SAFETY: releases the reference taken above.
    unsafe { rd::rd_kafka_queue_destroy(queue) };
}

/// Reads the delivery reports of one DR event. The topic name is read only
/// for a failure, whose error names it.
///
/// # Safety
/// `ev` must be a live `RD_KAFKA_EVENT_DR` event.
unsafe fn read_reports(ev: *mut rdkafka::bindings::rd_kafka_event_t, out: &mut DeliveryReports) {
    use rdkafka::bindings as rd;
    loop {
        let m = rd::rd_kafka_event_message_next(ev);
        if m.is_null() {
            break;
        }
        let msg = &*m;
        let ok = msg.err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR;
        if !ok {
            let topic =
                std::ffi::CStr::from_ptr(rd::rd_kafka_topic_name(msg.rkt)).to_string_lossy();
            out.failures.push((
                out.ids.len(),
                KafkaError::from_code(
                    RDKafkaErrorCode::from(msg.err),
                    format!("delivery to topic \"{topic}\" failed"),
                ),
            ));
        }
        let ts = rd::rd_kafka_message_timestamp(m, std::ptr::null_mut());
        out.ids.push(msg._private as usize as u64);
        out.partitions.push(msg.partition);
        out.offsets.push(if ok { msg.offset } else { -1 });
        out.timestamps.push(ts.max(-1));
    }
}

/// A librdkafka topic handle the producer keeps for its whole life.
///
/// Why: producing by name makes librdkafka look the topic up under a lock for
/// every record, and rdkafka's `send` allocates a C string for the name each
/// time; with the handle, a record is one `rd_kafka_producev` call (or a
/// share of one `rd_kafka_produce_batch`, see [`Producer::produce_run`]).
#[derive(Clone, Copy)]
pub struct Topic<'p> {
    rkt: *mut rdkafka::bindings::rd_kafka_topic_t,
    name: &'p str,
}

impl Topic<'_> {
    /// librdkafka's refusal to enqueue a record for this topic, as an error naming it.
    fn refused(&self, err: rdkafka::bindings::rd_kafka_resp_err_t) -> KafkaError {
        KafkaError::from_code(
            RDKafkaErrorCode::from(err),
            format!("producing to topic \"{}\"", self.name),
        )
    }
}

/// A key or value as librdkafka takes it: pointer and length, null for none.
fn c_bytes(b: Option<&[u8]>) -> (*mut std::ffi::c_void, usize) {
    b.map_or((std::ptr::null_mut(), 0), |b| {
        (b.as_ptr() as *mut std::ffi::c_void, b.len())
    })
}

/// One record of a run for [`Producer::produce_run_with`]: no headers, no
/// timestamp (stamped with the time of the call).
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    /// The key; `None` for none.
    pub key: Option<&'a [u8]>,
    /// The value; `None` for a tombstone.
    pub value: Option<&'a [u8]>,
    /// The partition; -1 for the partitioner's choice.
    pub partition: i32,
    /// The id its delivery report carries.
    pub id: u64,
}

/// What [`Producer::produce_run`] did with a run of records.
#[derive(Debug)]
pub struct RunOutcome {
    /// Records handled (enqueued or failed): all of them unless the local
    /// queue filled up, when the rest (from this index) is for a retry.
    pub done: usize,
    /// Records refused at once (unknown partition, too large, ...), by index.
    pub failures: Vec<(usize, KafkaError)>,
}

/// The handles, destroyed with the producer (before its client): `handles[id]`
/// is topic `id`'s handle and name, `ids` finds a name's id.
#[derive(Default)]
struct Topics(Mutex<TopicTable>);

#[derive(Default)]
struct TopicTable {
    ids: std::collections::HashMap<String, u32>,
    handles: Vec<(usize, Box<str>)>,
}

/// Topic `id`'s handle in `table`.
fn topic_in<'p>(table: &TopicTable, id: u32) -> Result<Topic<'p>> {
    let (rkt, name) =
        table
            .handles
            .get(id as usize)
            .ok_or_else(|| KafkaError::InvalidArgument {
                field: "topic".into(),
                reason: format!("no topic numbered {id}"),
            })?;
    // SAFETY: handles and their names live in the table, never moved out or
    // dropped, until the producer drops (a Box's contents do not move when
    // the Vec grows); `'p` is the producer's borrow at every caller.
    let name: &'p str = unsafe { &*(&**name as *const str) };
    Ok(Topic {
        rkt: *rkt as *mut _,
        name,
    })
}

/// A Kafka producer. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Producer {
    inner: Arc<BaseProducer<Context>>,
    stop: Arc<AtomicBool>,
    poller: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
    topics: Topics,
}

impl Drop for Producer {
    fn drop(&mut self) {
        if let Ok(table) = self.topics.0.get_mut() {
            for (rkt, _) in &table.handles {
                // SAFETY: each handle came from rd_kafka_topic_new and is released once,
                // while `inner` (the client) is still alive.
                unsafe { rdkafka::bindings::rd_kafka_topic_destroy(*rkt as *mut _) };
            }
        }
    }
}

impl Producer {
    /// Creates a producer; config errors name the key at fault.
    pub fn new(config: &Config, sink: Arc<dyn DeliverySink>) -> Result<Self> {
        let cc = config.build(ClientKind::Producer)?;
        let id = Identity::of(&cc);
        let secrets = config
            .resolved()
            .map(|c| c.secret_values())
            .unwrap_or_default();
        let inner: Arc<BaseProducer<Context>> = Arc::new(
            crate::priority::creating(config, || cc.create_with_context(Context))
                .map_err(|e| KafkaError::from_rdkafka(e, "creating producer"))?,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (inner, stop) = (inner.clone(), stop.clone());
            std::thread::Builder::new()
                .name("krafka-delivery".into())
                .spawn(move || serve_events(&inner, &*sink, &stop, id.as_ref(), &secrets))
                .map_err(|e| KafkaError::Closed(format!("cannot start delivery thread: {e}")))?
        };
        Ok(Producer {
            inner,
            stop,
            poller: Mutex::new(Some(poller)),
            closed: AtomicBool::new(false),
            topics: Topics::default(),
        })
    }

    /// Enqueues one record; its report arrives at the sink with `id`.
    /// Fails at once with `ERR__QUEUE_FULL` when the local queue is full.
    pub fn produce(&self, record: &ProduceRecord, id: u64) -> Result<()> {
        let headers: Vec<(&str, Option<&[u8]>)> = record
            .headers
            .iter()
            .map(|h| (h.key.as_str(), h.value.as_deref()))
            .collect();
        self.produce_ref(
            &RecordRef {
                topic: &record.topic,
                value: record.value.as_deref(),
                key: record.key.as_deref(),
                partition: record.partition,
                headers: &headers,
                timestamp: record.timestamp,
            },
            id,
        )
    }

    /// [`Producer::produce`] for a borrowed record.
    pub fn produce_ref(&self, record: &RecordRef<'_>, id: u64) -> Result<()> {
        let topic = self.topic(record.topic)?;
        self.produce_to(topic, record, id)
    }

    /// The handle for `name` (created on first use, then cached): resolve it
    /// once per chunk of records and produce with [`Producer::produce_to`].
    pub fn topic(&self, name: &str) -> Result<Topic<'_>> {
        let mut table = self.topics()?;
        let id = self.register(&mut table, name)?;
        topic_in(&table, id)
    }

    /// A number for topic `name` (its handle is created on first use), for
    /// callers that produce one record per call: [`Producer::topic_at`] finds
    /// the handle by number without hashing or converting the name again.
    pub fn topic_id(&self, name: &str) -> Result<u32> {
        let mut table = self.topics()?;
        self.register(&mut table, name)
    }

    /// `name`'s number in `table`, registering it (and creating its handle) on first use.
    fn register(&self, table: &mut TopicTable, name: &str) -> Result<u32> {
        if name.is_empty() {
            return Err(KafkaError::InvalidArgument {
                field: "topic".into(),
                reason: "must be a non-empty string".into(),
            });
        }
        if let Some(id) = table.ids.get(name) {
            return Ok(*id);
        }
        let c = std::ffi::CString::new(name).map_err(|_| KafkaError::InvalidArgument {
            field: "topic".into(),
            reason: "must not contain a NUL character".into(),
        })?;
        // SAFETY: the client is valid; a null conf means the default topic config.
        let rkt = unsafe {
            rdkafka::bindings::rd_kafka_topic_new(
                self.inner.client().native_ptr(),
                c.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        if rkt.is_null() {
            // SAFETY: reads this thread's last librdkafka error.
            let code = RDKafkaErrorCode::from(unsafe { rdkafka::bindings::rd_kafka_last_error() });
            return Err(KafkaError::from_code(code, format!("topic \"{name}\"")));
        }
        let id = table.handles.len() as u32;
        table.handles.push((rkt as usize, name.into()));
        table.ids.insert(name.to_string(), id);
        Ok(id)
    }

    /// The handle of the topic numbered `id` by [`Producer::topic_id`].
    pub fn topic_at(&self, id: u32) -> Result<Topic<'_>> {
        topic_in(&*self.topics()?, id)
    }

    fn topics(&self) -> Result<std::sync::MutexGuard<'_, TopicTable>> {
        self.topics
            .0
            .lock()
            .map_err(|_| KafkaError::Closed("producer".into()))
    }

    /// Enqueues one record to a topic from [`Producer::topic`] (`record.topic` is ignored).
    pub fn produce_to(&self, topic: Topic<'_>, record: &RecordRef<'_>, id: u64) -> Result<()> {
        use rdkafka::bindings as rd;
        use std::ffi::c_void;
        if self.closed.load(Ordering::Acquire) {
            return Err(KafkaError::Closed("produce".into()));
        }
        let (value, value_len) = c_bytes(record.value);
        let (key, key_len) = c_bytes(record.key);
        let headers = if record.headers.is_empty() {
            std::ptr::null_mut()
        } else {
            // SAFETY: a fresh list; librdkafka copies names and values.
            unsafe {
                let h = rd::rd_kafka_headers_new(record.headers.len());
                for (name, v) in record.headers {
                    let (vp, vl) = v.map_or((std::ptr::null(), 0), |v| {
                        (v.as_ptr() as *const c_void, v.len() as isize)
                    });
                    rd::rd_kafka_header_add(h, name.as_ptr().cast(), name.len() as isize, vp, vl);
                }
                h
            }
        };
        // SAFETY: the handle is alive (owned by `self.topics`); librdkafka copies
        // key and value (F_COPY) and takes the headers only on success.
        let err = unsafe {
            rd::rd_kafka_producev(
                self.inner.client().native_ptr(),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_RKT,
                topic.rkt,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_PARTITION,
                record.partition.unwrap_or(-1),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_MSGFLAGS,
                rd::RD_KAFKA_MSG_F_COPY as std::ffi::c_int,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_VALUE,
                value,
                value_len,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_KEY,
                key,
                key_len,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_OPAQUE,
                id as usize as *mut c_void,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_TIMESTAMP,
                record.timestamp.unwrap_or(0),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_HEADERS,
                headers,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_END,
            )
        };
        if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Ok(());
        }
        if !headers.is_null() {
            // SAFETY: not taken by librdkafka on failure.
            unsafe { rd::rd_kafka_headers_destroy(headers) };
        }
        Err(topic.refused(err))
    }

    /// Enqueues a run of records for one topic in one `rd_kafka_produce_batch`
    /// call (`record.topic` is ignored). librdkafka then takes the topic lock
    /// and reads the clocks once per run rather than once or more per record,
    /// which is most of what enqueueing costs beside the copy. The records
    /// must have no headers and no timestamp (see [`RecordRef::batchable`]):
    /// they are stamped with the time of the call, as `produce_to` stamps
    /// each record with its own.
    ///
    /// Stops at `ERR__QUEUE_FULL`: records from `done` on were not enqueued
    /// (librdkafka refuses every later record of the call too, so order holds).
    pub fn produce_run(&self, topic: Topic<'_>, records: &[(RecordRef<'_>, u64)]) -> RunOutcome {
        let run = self.produce_run_with(topic, records.len(), |i| {
            let (r, id) = &records[i];
            debug_assert!(r.batchable());
            Ok::<_, std::convert::Infallible>(RunRecord {
                key: r.key,
                value: r.value,
                partition: r.partition.unwrap_or(-1),
                id: *id,
            })
        });
        match run {
            Ok(out) => out,
            Err(never) => match never {},
        }
    }

    /// [`Producer::produce_run`] for `n` records that `record(i)` reads from
    /// wherever they lie (columns, a packed chunk), in the same pass that lays
    /// them out for librdkafka. The first `Err` is returned before anything is
    /// enqueued, so a malformed record never leaves part of a run sent.
    pub fn produce_run_with<'a, E>(
        &self,
        topic: Topic<'_>,
        n: usize,
        mut record: impl FnMut(usize) -> std::result::Result<RunRecord<'a>, E>,
    ) -> std::result::Result<RunOutcome, E> {
        use rdkafka::bindings as rd;
        use std::ffi::c_void;
        let mut out = RunOutcome {
            done: n,
            failures: Vec::new(),
        };
        if self.closed.load(Ordering::Acquire) {
            out.failures = (0..n)
                .map(|i| (i, KafkaError::Closed("produce".into())))
                .collect();
            return Ok(out);
        }
        let mut msgs: Vec<rd::rd_kafka_message_t> = Vec::with_capacity(n);
        for i in 0..n {
            let r = record(i)?;
            let (payload, len) = c_bytes(r.value);
            let (key, key_len) = c_bytes(r.key);
            msgs.push(rd::rd_kafka_message_t {
                err: rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
                rkt: std::ptr::null_mut(),
                partition: r.partition,
                payload,
                len,
                key,
                key_len,
                offset: 0,
                _private: r.id as usize as *mut c_void,
            });
        }
        let n = std::ffi::c_int::try_from(msgs.len()).unwrap_or(std::ffi::c_int::MAX);
        // SAFETY: the handle is alive (owned by `self.topics`); the array is
        // valid for `n` entries and its keys and values (borrowed for 'a) live
        // through the call; librdkafka copies them (F_COPY) and writes only
        // each entry's `err`. F_PARTITION: each entry's partition (-1 = the
        // partitioner's choice).
        unsafe {
            rd::rd_kafka_produce_batch(
                topic.rkt,
                -1,
                (rd::RD_KAFKA_MSG_F_COPY | rd::RD_KAFKA_MSG_F_PARTITION) as std::ffi::c_int,
                msgs.as_mut_ptr(),
                n,
            )
        };
        for (i, m) in msgs.iter().enumerate().take(n as usize) {
            match m.err {
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => {}
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__QUEUE_FULL => {
                    out.done = i;
                    return Ok(out);
                }
                e => out.failures.push((i, topic.refused(e))),
            }
        }
        out.done = n as usize;
        Ok(out)
    }

    /// Number of records not yet acknowledged.
    pub fn in_flight(&self) -> i32 {
        self.inner.in_flight_count()
    }

    /// Blocks until every in-flight record is delivered or `timeout` passes.
    /// Call from a worker thread, never from an event loop.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // With delivery reports as events, rd_kafka_flush only waits for the
        // count to reach zero while the delivery thread serves the queue
        // (rdkafka's `flush` would poll the queue from this thread too).
        // SAFETY: the client pointer is valid while `self.inner` lives.
        let err =
            unsafe { rdkafka::bindings::rd_kafka_flush(self.inner.client().native_ptr(), ms) };
        match RDKafkaErrorCode::from(err) {
            RDKafkaErrorCode::NoError => Ok(()),
            code => Err(KafkaError::from_code(
                code,
                format!("flush: {} records still in flight", self.in_flight()),
            )),
        }
    }

    /// SASL/OAUTHBEARER: hands librdkafka a token from the app's provider.
    /// `lifetime_ms` is the absolute expiry (ms since the epoch).
    pub fn set_oauth_token(
        &self,
        token: &str,
        lifetime_ms: i64,
        principal: &str,
        extensions: &[(String, String)],
    ) -> Result<()> {
        set_oauth_token(
            self.inner.client().native_ptr(),
            token,
            lifetime_ms,
            principal,
            extensions,
        )
    }

    /// SASL/OAUTHBEARER: the app's provider failed.
    pub fn set_oauth_failure(&self, message: &str) {
        let msg = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: valid client pointer and NUL-terminated string.
        unsafe {
            rdkafka::bindings::rd_kafka_oauthbearer_set_token_failure(
                self.inner.client().native_ptr(),
                msg.as_ptr(),
            )
        };
    }

    /// Transactions: registers the transactional id with the coordinator.
    pub fn init_transactions(&self, timeout: Duration) -> Result<()> {
        self.inner
            .init_transactions(timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "initTransactions"))
    }

    /// Transactions: begins a transaction.
    pub fn begin_transaction(&self) -> Result<()> {
        self.inner
            .begin_transaction()
            .map_err(|e| KafkaError::from_rdkafka(e, "beginTransaction"))
    }

    /// Transactions: commits the current transaction (flushes first).
    pub fn commit_transaction(&self, timeout: Duration) -> Result<()> {
        self.inner
            .commit_transaction(timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "commitTransaction"))
    }

    /// Transactions: aborts the current transaction.
    pub fn abort_transaction(&self, timeout: Duration) -> Result<()> {
        self.inner
            .abort_transaction(timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "abortTransaction"))
    }

    /// Transactions: adds the consumer's processed offsets (next offsets to
    /// read) to the current transaction, fenced by the consumer's group metadata.
    pub fn send_offsets_to_transaction(
        &self,
        offsets: &[TopicPartitionOffset],
        consumer: &Consumer,
        timeout: Duration,
    ) -> Result<()> {
        let tpl = crate::consumer::to_tpl(offsets, rdkafka::Offset::Invalid)?;
        let cgm = consumer.group_metadata()?;
        self.inner
            .send_offsets_to_transaction(&tpl, &cgm, timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "sendOffsetsToTransaction"))
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
            self.inner
                .purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        }
        self.stop.store(true, Ordering::Release);
        let handle = self.poller.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        flushed
    }
}

/// Sets an OAUTHBEARER token on a client (any thread).
pub(crate) fn set_oauth_token(
    rk: *mut rdkafka::bindings::rd_kafka_t,
    token: &str,
    lifetime_ms: i64,
    principal: &str,
    extensions: &[(String, String)],
) -> Result<()> {
    let bad = |f: &str| KafkaError::InvalidArgument {
        field: f.into(),
        reason: "must not contain NUL".into(),
    };
    let token_c = std::ffi::CString::new(token).map_err(|_| bad("token"))?;
    let principal_c = std::ffi::CString::new(principal).map_err(|_| bad("principal"))?;
    let mut ext = Vec::with_capacity(extensions.len() * 2);
    for (k, v) in extensions {
        ext.push(std::ffi::CString::new(k.as_str()).map_err(|_| bad("extensions"))?);
        ext.push(std::ffi::CString::new(v.as_str()).map_err(|_| bad("extensions"))?);
    }
    let mut ext_ptrs: Vec<*const std::ffi::c_char> = ext.iter().map(|c| c.as_ptr()).collect();
    let mut errstr = [0 as std::ffi::c_char; 512];
    // SAFETY: all strings live until the call returns; rk is a valid client.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token(
            rk,
            token_c.as_ptr(),
            lifetime_ms,
            principal_c.as_ptr(),
            ext_ptrs.as_mut_ptr(),
            ext_ptrs.len(),
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    match RDKafkaErrorCode::from(err) {
        RDKafkaErrorCode::NoError => Ok(()),
        code => {
            // SAFETY: librdkafka NUL-terminates errstr.
            let msg = unsafe { std::ffi::CStr::from_ptr(errstr.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            Err(KafkaError::Kafka {
                code,
                context: "oauth token".into(),
                message: msg,
                retriable: false,
                fatal: false,
                txn_requires_abort: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(n: usize, failed: &[usize]) -> DeliveryReports {
        DeliveryReports {
            ids: (0..n as u64).collect(),
            partitions: (0..n as i32).map(|i| i % 3).collect(),
            offsets: (0..n as i64).collect(),
            timestamps: vec![-1; n],
            failures: failed
                .iter()
                .map(|&i| {
                    let e = KafkaError::InvalidArgument {
                        field: format!("record {i}"),
                        reason: "test".into(),
                    };
                    (i, e)
                })
                .collect(),
        }
    }

    #[test]
    fn split_keeps_order_and_rebases_failures() {
        let parts = reports(2500, &[0, 999, 1000, 2499]).split(1000);
        assert_eq!(
            parts.iter().map(DeliveryReports::len).collect::<Vec<_>>(),
            [1000, 1000, 500]
        );
        let ids: Vec<u64> = parts.iter().flat_map(|p| p.ids.clone()).collect();
        assert_eq!(ids, (0..2500).collect::<Vec<_>>());
        assert_eq!(parts[1].offsets[0], 1000);
        assert_eq!(parts[2].partitions[0], 2000 % 3);
        let failed = |p: &DeliveryReports| {
            p.failures
                .iter()
                .map(|(i, e)| (*i, e.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            failed(&parts[0]).iter().map(|f| f.0).collect::<Vec<_>>(),
            [0, 999]
        );
        assert_eq!(
            failed(&parts[1]).iter().map(|f| f.0).collect::<Vec<_>>(),
            [0]
        );
        assert!(failed(&parts[1])[0].1.contains("record 1000"));
        assert_eq!(
            failed(&parts[2]).iter().map(|f| f.0).collect::<Vec<_>>(),
            [499]
        );
        assert!(failed(&parts[2])[0].1.contains("record 2499"));
    }

    /// librdkafka patch 0003 (vendor/README.md): produced messages come from
    /// mimalloc, so the delivery thread frees them without the lock the
    /// producing thread's next allocation waits for. A librdkafka upgrade
    /// that drops the patch fails here.
    #[test]
    fn produced_messages_are_allocated_by_mimalloc() {
        use rdkafka::producer::{
            BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext,
        };
        use rdkafka::{ClientConfig, ClientContext};
        use std::sync::mpsc;
        use std::time::Duration;

        extern "C" {
            fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
        }
        struct Ctx(mpsc::Sender<(usize, bool)>);
        impl ClientContext for Ctx {}
        impl ProducerContext for Ctx {
            type DeliveryOpaque = ();
            fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
                let (m, ok) = match r {
                    Ok(m) => (m, true),
                    Err((_, m)) => (m, false),
                };
                // The rd_kafka_message_t is the first field of librdkafka's
                // rd_kafka_msg_t: its address is the allocation's.
                let _ = self.0.send((m.ptr() as usize, ok));
            }
        }

        let cluster = crate::EmbeddedCluster::start(1).expect("mock cluster");
        let (tx, rx) = mpsc::channel();
        let p: BaseProducer<Ctx> = ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .create_with_context(Ctx(tx))
            .expect("producer");
        for i in 0..3 {
            p.send(BaseRecord::<(), [u8]>::to("t").payload(&b"x"[..]))
                .unwrap_or_else(|_| panic!("send {i}"));
        }
        p.flush(Duration::from_secs(10)).expect("flush");
        let seen: Vec<(usize, bool)> = rx.try_iter().collect();
        assert_eq!(seen.len(), 3, "three delivery reports");
        for (ptr, ok) in seen {
            assert!(ok, "delivered");
            // SAFETY: only looks the address up in mimalloc's segment map.
            assert!(
                unsafe { mi_is_in_heap_region(ptr as *const _) },
                "message at {ptr:#x} is not from mimalloc"
            );
        }
        // The check can fail: a block from the C library's malloc is not mimalloc's.
        let other = Box::new([0u8; 256]);
        // SAFETY: as above.
        assert!(!unsafe { mi_is_in_heap_region(other.as_ptr().cast()) });
    }

    /// Topic numbers (what `produce()` passes per record): one per name,
    /// stable, and a number never handed out is refused rather than read.
    #[test]
    fn topic_numbers_are_one_per_name_and_checked() {
        struct Sink;
        impl DeliverySink for Sink {
            fn deliver(&self, _: DeliveryReports) {}
        }
        let cluster = crate::EmbeddedCluster::start(1).expect("mock cluster");
        let config = Config::new([("bootstrap.servers", cluster.bootstrap_servers())]);
        let p = Producer::new(&config, Arc::new(Sink)).expect("producer");
        let a = p.topic_id("a").expect("a");
        let b = p.topic_id("b").expect("b");
        assert_ne!(a, b);
        assert_eq!(p.topic_id("a").expect("a again"), a);
        assert_eq!(p.topic_at(a).expect("a by number").name, "a");
        assert_eq!(
            p.topic("b").expect("b by name").rkt,
            p.topic_at(b).expect("b").rkt
        );
        let unknown = p.topic_at(b + 1).err().expect("a number never handed out");
        assert!(
            unknown.to_string().contains("no topic numbered"),
            "{unknown}"
        );
        for bad in ["", "x\0y"] {
            let e = p.topic_id(bad).expect_err("refused");
            assert!(e.to_string().contains("topic"), "{e}");
        }
        p.close(Duration::from_secs(5)).expect("close");
    }

    #[test]
    fn split_leaves_a_small_batch_whole() {
        let parts = reports(1000, &[5]).split(1000);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 1000);
        assert_eq!(parts[0].failures[0].0, 5);
    }
}
