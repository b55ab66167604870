//! The native ceiling of krafka's benchmarks (`bench/`, `npm run bench`).
//!
//! It drives `rdkafka` directly, with the very same workspace dependency as
//! krafka-core (so the same static librdkafka 2.12 build) and krafka's own
//! defaults (`enable.idempotence=true`, `acks=all`, `partitioner=murmur2_random`;
//! consumers `enable.auto.offset.store=false`, `cooperative-sticky`; and
//! librdkafka's threads 4 nice steps below the rest, see [`lower_librdkafka_threads`]),
//! so the only difference to krafka is the absence of Node. Every subcommand prints
//! one JSON object on stdout; numbers use the same names as bench/'s JS side.
//!
//! ```text
//! krafka-bench produce  --bootstrap B --topic T --count N [--warmup 0] [--size 100] [--key-size 0] [--max-in-flight 50000] [--per-record]
//! krafka-bench await    --bootstrap B --topic T --count N [--warmup 100] [--size 100] [--max-seconds 60]
//! krafka-bench consume  --bootstrap B --topic T --group G --count N [--copy] [--rss-at n,m]
//! krafka-bench e2e      --bootstrap B --topic T --group G [--rate 10000] [--seconds 10] [--warmup-seconds 2] [--size 100]
//! ```
//!
//! Each takes config overrides: `--set k=v` (every client), `--pset k=v`
//! (producers), `--cset k=v` (consumers), and `--thread-nice n` (default 4).
//!
//! `produce` with `--key-size` is also how bench/run.js fills the topics the
//! consumers read (10-byte keys, 100-byte values).
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{DeliveryResult, Producer as _, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use serde_json::{json, Value};

type Res<T> = std::result::Result<T, String>;

/// `--key value` pairs; `--flag` alone is "true". Config overrides may
/// repeat: `--set k=v` (every client), `--pset k=v` (producers only),
/// `--cset k=v` (consumers only).
struct Args {
    named: HashMap<String, String>,
    set: Vec<(String, String)>,
    pset: Vec<(String, String)>,
    cset: Vec<(String, String)>,
}

impl Args {
    fn parse(raw: &[String]) -> Res<Args> {
        let mut named = HashMap::new();
        let (mut set, mut pset, mut cset) = (Vec::new(), Vec::new(), Vec::new());
        let mut i = 0;
        while i < raw.len() {
            let k = raw[i]
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {:?}", raw[i]))?;
            let v = match raw.get(i + 1) {
                Some(v) if !v.starts_with("--") => {
                    i += 1;
                    v.clone()
                }
                _ => "true".to_string(),
            };
            let list = match k {
                "set" => Some(&mut set),
                "pset" => Some(&mut pset),
                "cset" => Some(&mut cset),
                _ => None,
            };
            if let Some(list) = list {
                let (sk, sv) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--{k} wants key=value, got {v:?}"))?;
                list.push((sk.to_string(), sv.to_string()));
            } else {
                named.insert(k.to_string(), v);
            }
            i += 1;
        }
        Ok(Args {
            named,
            set,
            pset,
            cset,
        })
    }

    fn str(&self, k: &str) -> Res<String> {
        self.named
            .get(k)
            .cloned()
            .ok_or_else(|| format!("missing --{k}"))
    }

    fn num(&self, k: &str, default: Option<u64>) -> Res<u64> {
        match self.named.get(k) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{k} must be a non-negative integer, got {v:?}")),
            None => default.ok_or_else(|| format!("missing --{k}")),
        }
    }

    fn flag(&self, k: &str) -> bool {
        self.named.get(k).is_some_and(|v| v != "false" && v != "0")
    }
}

/// krafka's defaults for the kind of client (crates/krafka-core/src/config.rs), then the caller's `--set`s.
fn config(args: &Args, producer: bool) -> Res<ClientConfig> {
    let mut cc = ClientConfig::new();
    cc.set("bootstrap.servers", args.str("bootstrap")?);
    cc.set("broker.address.family", "v4");
    if producer {
        cc.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "murmur2_random");
    } else {
        cc.set("enable.auto.offset.store", "false")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("group.id", args.str("group")?)
            .set("auto.offset.reset", "earliest");
    }
    let own = if producer { &args.pset } else { &args.cset };
    for (k, v) in args.set.iter().chain(own) {
        cc.set(k, v);
    }
    Ok(cc)
}

/// krafka's `krafka.thread.nice` default (krafka-core's priority.rs): librdkafka's
/// threads run 4 nice steps below the thread that created the client. krafka
/// does it from a librdkafka interceptor as each thread starts; a plain binary
/// cannot load itself as a librdkafka plugin, so the ceiling renices the
/// threads it finds (by their `rdk:` names) once all of them are up, before
/// timing. `--thread-nice 0` leaves them as they are. Linux only.
fn lower_librdkafka_threads(args: &Args) -> Res<()> {
    let steps = args.num("thread-nice", Some(4))? as i32;
    if steps == 0 || !cfg!(target_os = "linux") {
        return Ok(());
    }
    // SAFETY: getpriority/setpriority only read and set scheduling values.
    let base = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Ok(());
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let Ok(tid) = t.file_name().to_string_lossy().parse::<libc::id_t>() else {
            continue;
        };
        if comm.starts_with("rdk:") {
            // SAFETY: setpriority only sets a scheduling value; a tid that has
            // exited since the listing makes it fail, which is ignored.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, (base + steps).min(19)) };
        }
    }
    Ok(())
}

/// CPU seconds (user + system, all threads) of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above: ru is ours and the size getrusage expects.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time of each thread so far, in ms, summed by thread name (the main
/// thread as "main"; Linux schedstat, empty elsewhere), as bench/lib/common.js's
/// `threadCpuMs`: where a run's CPU went.
fn thread_cpu_ms() -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let me = std::process::id().to_string();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for t in tasks.flatten() {
        let tid = t.file_name().to_string_lossy().into_owned();
        let dir = t.path();
        let name = if tid == me {
            "main".to_string()
        } else {
            match std::fs::read_to_string(dir.join("comm")) {
                Ok(c) => c.trim().to_string(),
                Err(_) => continue, // the thread ended meanwhile
            }
        };
        let ns = std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<f64>().ok())
            });
        if let Some(ns) = ns {
            *out.entry(name).or_insert(0.0) += ns / 1e6;
        }
    }
    out
}

/// `thread_cpu_ms()` now minus `before`, rounded, as JSON.
fn thread_cpu_since(before: &HashMap<String, f64>) -> Value {
    let now = thread_cpu_ms();
    let map: serde_json::Map<String, Value> = now
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                json!((v - before.get(k).unwrap_or(&0.0)).round()),
            )
        })
        .collect();
    Value::Object(map)
}

/// Resident set size now, in MB (from /proc/self/statm).
fn rss_mb() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    pages * page / 1e6
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// The scheduling floor for the JS contenders' event-loop delay: a thread
/// that sleeps 1 ms at a time and records the time between its wake-ups, as
/// `monitorEventLoopDelay({ resolution: 1 })` records the time between its
/// timer's runs. A thread with nothing else to do is the best case for an
/// event loop, so its p99 is what the machine allows while this client runs.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<f64>>,
}

impl Ticker {
    fn start() -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut gaps = Vec::with_capacity(1 << 16);
            let mut prev = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
                let now = Instant::now();
                gaps.push(now.duration_since(prev).as_secs_f64() * 1e3);
                prev = now;
            }
            gaps
        });
        Ticker { stop, thread }
    }

    /// Stops the thread; `{ tickP99Ms, tickMaxMs }`.
    fn finish(self) -> Value {
        self.stop.store(true, Ordering::Relaxed);
        let mut gaps = self.thread.join().unwrap_or_default();
        gaps.sort_by(f64::total_cmp);
        json!({
            "tickP99Ms": percentile(&gaps, 99.0),
            "tickMaxMs": gaps.last().copied().unwrap_or(0.0),
        })
    }
}

/// `result` with the ticker's figures (from [`Ticker::finish`]) added.
fn with_ticks(result: Value, ticks: Option<Value>) -> Value {
    match (result, ticks) {
        (Value::Object(mut o), Some(Value::Object(t))) => {
            o.extend(t);
            Value::Object(o)
        }
        (result, _) => result,
    }
}

/// Counts delivery reports; wakes the producing thread once the count it waits for (`want`) is reached.
struct Acks {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    lock: Mutex<()>,
    cv: Condvar,
    /// The count the producing thread waits for (u64::MAX: nobody waits).
    want: AtomicU64,
}

struct Ctx(Arc<Acks>);

impl ClientContext for Ctx {}

impl ProducerContext for Ctx {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.0.ok.fetch_add(1, Ordering::SeqCst),
            Err((e, _)) => {
                if let Ok(mut f) = self.0.first_error.lock() {
                    f.get_or_insert_with(|| e.to_string());
                }
                self.0.failed.fetch_add(1, Ordering::SeqCst)
            }
        };
        // One wake-up per wait, when its count is reached, not one per report:
        // a producer waiting at the in-flight limit was woken (and went back to
        // sleep) for every one of 25,000 reports. SeqCst on both sides (here
        // and in wait_until) so that one of them always sees the other.
        if self.0.done() >= self.0.want.load(Ordering::SeqCst) {
            let _g = self.0.lock.lock();
            self.0.cv.notify_all();
        }
    }
}

impl Acks {
    /// Forgets the reports so far (the warm-up's), before timing.
    fn reset(&self) {
        self.ok.store(0, Ordering::SeqCst);
        self.failed.store(0, Ordering::SeqCst);
        self.want.store(u64::MAX, Ordering::SeqCst);
    }

    fn done(&self) -> u64 {
        self.ok.load(Ordering::SeqCst) + self.failed.load(Ordering::SeqCst)
    }

    fn wait_until(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = match self.lock.lock() {
            Ok(g) => g,
            Err(_) => return false,
        };
        self.want.store(n, Ordering::SeqCst);
        let mut reached = true;
        while self.done() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                reached = false;
                break;
            }
            g = match self.cv.wait_timeout(g, left.min(Duration::from_millis(50))) {
                Ok((g, _)) => g,
                Err(_) => {
                    reached = false;
                    break;
                }
            };
        }
        self.want.store(u64::MAX, Ordering::SeqCst);
        reached
    }
}

fn producer(args: &Args) -> Res<(ThreadedProducer<Ctx>, Arc<Acks>)> {
    let acks = Arc::new(Acks {
        ok: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        first_error: Mutex::new(None),
        lock: Mutex::new(()),
        cv: Condvar::new(),
        want: AtomicU64::new(u64::MAX),
    });
    let p: ThreadedProducer<Ctx> = config(args, true)?
        .create_with_context(Ctx(acks.clone()))
        .map_err(|e| format!("creating producer: {e}"))?;
    Ok((p, acks))
}

/// A librdkafka topic handle. Records go through it as krafka-core sends
/// them: runs of 1,000 with one `rd_kafka_produce_batch` call each (or, with
/// `--per-record`, one `rd_kafka_producev` each), with no topic lookup by name
/// and no C string per record (what rdkafka's `BaseRecord::to(name)` costs), so
/// the ceiling is the fastest way to drive this librdkafka, not only the idiomatic one.
struct Topic(*mut rdkafka::bindings::rd_kafka_topic_t);

impl Topic {
    /// Declare it after the producer, so it is dropped first.
    fn new(p: &ThreadedProducer<Ctx>, name: &str) -> Res<Topic> {
        let c = std::ffi::CString::new(name).map_err(|e| format!("topic {name:?}: {e}"))?;
        // SAFETY: a live client; the default topic config (null) is librdkafka's.
        let rkt = unsafe {
            rdkafka::bindings::rd_kafka_topic_new(
                p.client().native_ptr(),
                c.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        if rkt.is_null() {
            return Err(format!("topic handle for {name:?}"));
        }
        Ok(Topic(rkt))
    }
}

impl Drop for Topic {
    fn drop(&mut self) {
        // SAFETY: made by rd_kafka_topic_new, released once, before the client.
        unsafe { rdkafka::bindings::rd_kafka_topic_destroy(self.0) };
    }
}

/// Enqueues one record, waiting for room when the local queue is full (as krafka's `send()` does).
fn send(p: &ThreadedProducer<Ctx>, topic: &Topic, key: Option<&[u8]>, value: &[u8]) -> Res<()> {
    use rdkafka::bindings as rd;
    use std::ffi::{c_int, c_void};
    let (kp, kl) = key.map_or((std::ptr::null_mut(), 0), |k| {
        (k.as_ptr() as *mut c_void, k.len())
    });
    loop {
        // SAFETY: live client and handle; librdkafka copies key and value
        // (F_COPY). No opaque: the context's DeliveryOpaque is ().
        let err = unsafe {
            rd::rd_kafka_producev(
                p.client().native_ptr(),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_RKT,
                topic.0,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_MSGFLAGS,
                rd::RD_KAFKA_MSG_F_COPY as c_int,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_VALUE,
                value.as_ptr() as *mut c_void,
                value.len(),
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_KEY,
                kp,
                kl,
                rd::rd_kafka_vtype_t::RD_KAFKA_VTYPE_END,
            )
        };
        match RDKafkaErrorCode::from(err) {
            RDKafkaErrorCode::NoError => return Ok(()),
            RDKafkaErrorCode::QueueFull => std::thread::sleep(Duration::from_micros(100)),
            e => return Err(format!("produce: {e}")),
        }
    }
}

/// Enqueues a run of records with one `rd_kafka_produce_batch` call, as
/// krafka-core enqueues records without headers or timestamps (the
/// partitioner picks each partition); waits for room and retries the rest when
/// the local queue is full.
fn send_run(topic: &Topic, keys: &[&[u8]], value: &[u8], n: usize) -> Res<()> {
    use rdkafka::bindings as rd;
    use std::ffi::{c_int, c_void};
    let mut msgs: Vec<rd::rd_kafka_message_t> = (0..n)
        .map(|i| {
            let (key, key_len) = keys.get(i).map_or((std::ptr::null_mut(), 0), |k| {
                (k.as_ptr() as *mut c_void, k.len())
            });
            rd::rd_kafka_message_t {
                err: rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
                rkt: std::ptr::null_mut(),
                partition: -1,
                payload: value.as_ptr() as *mut c_void,
                len: value.len(),
                key,
                key_len,
                offset: 0,
                _private: std::ptr::null_mut(),
            }
        })
        .collect();
    let mut from = 0;
    while from < n {
        let rest = &mut msgs[from..];
        // SAFETY: a live handle; `rest` is valid for its length; librdkafka
        // copies keys and values (F_COPY) and writes only each entry's err.
        unsafe {
            rd::rd_kafka_produce_batch(
                topic.0,
                -1,
                (rd::RD_KAFKA_MSG_F_COPY | rd::RD_KAFKA_MSG_F_PARTITION) as c_int,
                rest.as_mut_ptr(),
                rest.len() as c_int,
            )
        };
        let mut next = n;
        for (i, m) in rest.iter().enumerate() {
            match RDKafkaErrorCode::from(m.err) {
                RDKafkaErrorCode::NoError => {}
                RDKafkaErrorCode::QueueFull => {
                    next = from + i;
                    break;
                }
                e => return Err(format!("produce: {e}")),
            }
        }
        if next < n {
            std::thread::sleep(Duration::from_micros(100));
        }
        from = next;
    }
    Ok(())
}

fn value_of(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The pipelined-produce loop of `produce`: at most `max_in_flight`
/// unacknowledged, in runs of 1,000 (or record by record with `--per-record`).
struct Pipelined {
    max_in_flight: u64,
    key_size: usize,
    per_record: bool,
}

impl Pipelined {
    /// Enqueues `count` records; returns once the last is enqueued (not acknowledged).
    fn produce(
        &self,
        p: &ThreadedProducer<Ctx>,
        handle: &Topic,
        acks: &Acks,
        value: &[u8],
        count: u64,
    ) -> Res<()> {
        let (max_in_flight, key_size) = (self.max_in_flight, self.key_size);
        let run = if self.per_record { 1 } else { 1000 };
        let mut keys = vec![b'0'; key_size * run as usize];
        let mut i = 0;
        while i < count {
            if i - acks.done() >= max_in_flight {
                // As bench/lib/common.js's pipeline(): at the limit, wait until half
                // the window is acknowledged, then send on.
                acks.wait_until(i - max_in_flight / 2, Duration::from_secs(300));
            }
            let n = run.min(count - i);
            for j in 0..n {
                if key_size > 0 {
                    let digits = format!(
                        "{:0width$}",
                        (i + j) % 10u64.pow(key_size.min(19) as u32),
                        width = key_size
                    );
                    let at = j as usize * key_size;
                    keys[at..at + key_size]
                        .copy_from_slice(&digits.as_bytes()[digits.len() - key_size..]);
                }
            }
            let ks: Vec<&[u8]> = if key_size > 0 {
                keys.chunks(key_size).take(n as usize).collect()
            } else {
                Vec::new()
            };
            if self.per_record {
                send(p, handle, ks.first().copied(), value)?;
            } else {
                send_run(handle, &ks, value, n as usize)?;
            }
            i += n;
        }
        Ok(())
    }
}

/// Pipelined produce: `--count` records, at most `--max-in-flight` unacknowledged.
fn cmd_produce(args: &Args) -> Res<Value> {
    let topic = args.str("topic")?;
    let count = args.num("count", None)?;
    let size = args.num("size", Some(100))? as usize;
    let key_size = args.num("key-size", Some(0))? as usize;
    let max_in_flight = args.num("max-in-flight", Some(50_000))?;
    let (p, acks) = producer(args)?;
    let value = value_of(size);
    let handle = Topic::new(&p, &topic)?;
    // One record delivered before timing, as the JS contenders' warm-up send:
    // the connection, the topic's leaders and the idempotent producer id are
    // in place. Learning only the metadata left the id to the timed window,
    // and librdkafka retries a too-early id request only after 500 ms: a
    // stall that halved the ceiling's rate in some runs.
    send(&p, &handle, None, &value)?;
    if !acks.wait_until(1, Duration::from_secs(30)) {
        return Err("the warm-up record was not acknowledged within 30 s".into());
    }
    acks.reset();
    // `--per-record`: one rd_kafka_producev per record, as krafka-core enqueued
    // records before it used rd_kafka_produce_batch.
    let run = Pipelined {
        max_in_flight,
        key_size,
        per_record: args.flag("per-record"),
    };
    lower_librdkafka_threads(args)?;
    // `--warmup n`: n records the same way before timing, as every JS
    // contender's produce run (bench/lib/common.js's timedPipeline).
    let warmup = args.num("warmup", Some(0))?;
    if warmup > 0 {
        run.produce(&p, &handle, &acks, &value, warmup)?;
        if !acks.wait_until(warmup, Duration::from_secs(300)) {
            return Err(format!(
                "only {} of {warmup} warm-up records delivered",
                acks.done()
            ));
        }
        if acks.failed.load(Ordering::Acquire) > 0 {
            return Err("a warm-up record failed".into());
        }
        acks.reset();
    }
    let ticker = Ticker::start();
    // For bench/run.js, which measures an idle Node event loop beside this run over the same window.
    eprintln!("krafka-bench: window start");
    let threads0 = thread_cpu_ms();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    run.produce(&p, &handle, &acks, &value, count)?;
    if !acks.wait_until(count, Duration::from_secs(300)) {
        return Err(format!("only {} of {count} delivered", acks.done()));
    }
    eprintln!("krafka-bench: window end");
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let threads = thread_cpu_since(&threads0);
    let ticks = ticker.finish();
    let failed = acks.failed.load(Ordering::Acquire);
    if failed > 0 {
        let first = acks
            .first_error
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_default();
        return Err(format!("{failed} deliveries failed, first: {first}"));
    }
    p.flush(Duration::from_secs(30))
        .map_err(|e| format!("flush: {e}"))?;
    Ok(with_ticks(
        json!({
            "count": count,
            "warmup": warmup,
            "threadCpuMs": threads,
            "seconds": seconds,
            "msgsPerSec": count as f64 / seconds,
            "mbPerSec": (count as f64 * size as f64) / seconds / 1e6,
            "cpuSeconds": cpu,
        }),
        Some(ticks),
    ))
}

/// Awaited single sends: each waits for its delivery report before the next.
fn cmd_await(args: &Args) -> Res<Value> {
    let topic = args.str("topic")?;
    let count = args.num("count", None)?;
    let warmup = args.num("warmup", Some(100))?;
    let max_seconds = args.num("max-seconds", Some(60))?;
    let value = value_of(args.num("size", Some(100))? as usize);
    let (p, acks) = producer(args)?;
    p.client()
        .fetch_metadata(Some(&topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let handle = Topic::new(&p, &topic)?;
    lower_librdkafka_threads(args)?;
    let mut lat = Vec::with_capacity(count as usize);
    let start = Instant::now();
    for i in 0..warmup + count {
        if i >= warmup && start.elapsed().as_secs() >= max_seconds {
            break;
        }
        let t = Instant::now();
        send(&p, &handle, None, &value)?;
        if !acks.wait_until(i + 1, Duration::from_secs(30)) {
            return Err(format!("send {i} not acknowledged within 30 s"));
        }
        if i >= warmup {
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    if acks.failed.load(Ordering::Acquire) > 0 {
        return Err("deliveries failed".into());
    }
    lat.sort_by(f64::total_cmp);
    Ok(json!({
        "samples": lat.len(),
        "p50Ms": percentile(&lat, 50.0),
        "p99Ms": percentile(&lat, 99.0),
        "meanMs": lat.iter().sum::<f64>() / lat.len().max(1) as f64,
    }))
}

fn consumer(args: &Args) -> Res<BaseConsumer> {
    let c: BaseConsumer = config(args, false)?
        .create()
        .map_err(|e| format!("creating consumer: {e}"))?;
    c.subscribe(&[&args.str("topic")?])
        .map_err(|e| format!("subscribe: {e}"))?;
    Ok(c)
}

fn close(c: &BaseConsumer) {
    if c.close_queue().is_ok() {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !c.closed() && Instant::now() < deadline {
            let _ = c.poll(Duration::from_millis(100));
        }
    }
}

/// Consumes `--count` messages: a plain poll loop that reads every key and
/// value in place (the ceiling), or with `--copy` also copies each message
/// into krafka-core's columnar batches of 1000, as krafka's consumer does.
fn cmd_consume(args: &Args) -> Res<Value> {
    if args.flag("core") {
        return cmd_consume_core(args);
    }
    let count = args.num("count", None)?;
    let copy = args.flag("copy");
    let rss_at: Vec<u64> = args
        .named
        .get("rss-at")
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_default();
    let c = consumer(args)?;
    let rss_start = rss_mb();
    let mut rss = Vec::new();
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut batch = krafka_core::MessageBatch::with_capacity(1000, 128 * 1000);
    let mut first: Option<(Instant, f64)> = None;
    let mut ticker = None;
    let mut last = Instant::now();
    let idle = Duration::from_secs(60);
    while n < count {
        match c.poll(Duration::from_millis(100)) {
            None => {
                if last.elapsed() > idle {
                    return Err(format!("stalled after {n} of {count} messages"));
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) => {}
            Some(Err(e)) => return Err(format!("consume: {e}")),
            Some(Ok(m)) => {
                if first.is_none() {
                    lower_librdkafka_threads(args)?;
                    ticker = Some(Ticker::start());
                    first = Some((Instant::now(), cpu_seconds()));
                }
                n += 1;
                bytes += m.payload().map_or(0, <[u8]>::len) as u64
                    + m.key().map_or(0, <[u8]>::len) as u64;
                if copy {
                    // A fresh batch each time, as each one is handed over to JS.
                    batch.push(&m);
                    if batch.len() == 1000 {
                        batch = krafka_core::MessageBatch::with_capacity(1000, 128 * 1000);
                    }
                }
                last = Instant::now();
                if rss_at.contains(&n) {
                    rss.push(json!({ "messages": n, "rssMb": rss_mb() }));
                }
            }
        }
    }
    let result = consume_result(n, bytes, first, last, rss_start, rss)
        .map(|r| with_ticks(r, ticker.map(Ticker::finish)));
    close(&c);
    result
}

/// The JSON line of a consume run, timed from the first message to the last.
fn consume_result(
    n: u64,
    bytes: u64,
    first: Option<(Instant, f64)>,
    last: Instant,
    rss_start: f64,
    rss: Vec<Value>,
) -> Res<Value> {
    let (t_first, cpu_first) = first.ok_or("no message")?;
    let seconds = last.duration_since(t_first).as_secs_f64().max(1e-9);
    Ok(json!({
        "count": n,
        "bytes": bytes,
        "seconds": seconds,
        "msgsPerSec": n as f64 / seconds,
        "cpuSeconds": cpu_seconds() - cpu_first,
        "rssStartMb": rss_start,
        "rss": rss,
    }))
}

/// Consumes `--count` messages through krafka-core's own `Consumer::poll_batch`
/// (batches of `--batch`, default 10,000): everything krafka's consumer does
/// except crossing into JS.
fn cmd_consume_core(args: &Args) -> Res<Value> {
    let count = args.num("count", None)?;
    let max = args.num("batch", Some(10_000))? as usize;
    let cc = config(args, false)?;
    let cfg = krafka_core::Config::new(
        cc.config_map()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let c = krafka_core::Consumer::new(&cfg, None).map_err(|e| e.to_string())?;
    c.subscribe(&[args.str("topic")?])
        .map_err(|e| e.to_string())?;
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut first: Option<(Instant, f64)> = None;
    let mut ticker = None;
    let mut last = Instant::now();
    while n < count {
        let b = c
            .poll_batch(max, Duration::from_millis(100))
            .map_err(|e| e.to_string())?;
        if b.is_empty() {
            if last.elapsed() > Duration::from_secs(60) {
                return Err(format!("stalled after {n} of {count} messages"));
            }
            continue;
        }
        if first.is_none() {
            lower_librdkafka_threads(args)?;
            ticker = Some(Ticker::start());
            first = Some((Instant::now(), cpu_seconds()));
        }
        for i in 0..b.len() {
            let f = &b.fields[i * krafka_core::batch::FIELDS..];
            bytes += (f[3].max(0) + f[5].max(0)) as u64;
        }
        n += b.len() as u64;
        last = Instant::now();
    }
    let result = consume_result(n, bytes, first, last, 0.0, Vec::new())
        .map(|r| with_ticks(r, ticker.map(Ticker::finish)));
    let _ = c.close();
    result
}

/// End-to-end latency at a fixed rate: a paced producer thread stamps each
/// value with its send time; this thread consumes and measures.
fn cmd_e2e(args: &Args) -> Res<Value> {
    let topic = args.str("topic")?;
    let rate = args.num("rate", Some(10_000))? as f64;
    let seconds = args.num("seconds", Some(10))? as f64;
    let warmup = args.num("warmup-seconds", Some(2))? as f64;
    let size = (args.num("size", Some(100))? as usize).max(8);
    let total = ((warmup + seconds) * rate) as u64;
    let epoch = Instant::now();
    let c = consumer(args)?;
    let (p, acks) = producer(args)?;
    let pt = {
        let topic = topic.clone();
        std::thread::spawn(move || -> Res<()> {
            let handle = Topic::new(&p, &topic)?;
            let mut value = value_of(size);
            let start = Instant::now();
            let mut sent = 0u64;
            while sent < total {
                let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
                while sent < due {
                    let ns = epoch.elapsed().as_nanos() as u64;
                    value[..8].copy_from_slice(&ns.to_le_bytes());
                    send(&p, &handle, None, &value)?;
                    sent += 1;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            p.flush(Duration::from_secs(30))
                .map_err(|e| format!("flush: {e}"))?;
            Ok(())
        })
    };
    let mut lat = Vec::with_capacity((seconds * rate) as usize);
    let mut received = 0u64;
    let mut first_rx: Option<f64> = None;
    let deadline_after_send = Duration::from_secs_f64(warmup + seconds + 30.0);
    while received < total && epoch.elapsed() < deadline_after_send {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let now = epoch.elapsed().as_secs_f64();
                received += 1;
                let Some(v) = m.payload() else { continue };
                if v.len() < 8 {
                    continue;
                }
                let sent_ns = u64::from_le_bytes(v[..8].try_into().map_err(|_| "short value")?);
                let sent = sent_ns as f64 / 1e9;
                if first_rx.is_none() {
                    lower_librdkafka_threads(args)?;
                }
                let from = *first_rx.get_or_insert(now) + 0.5;
                if sent >= warmup.max(from) {
                    lat.push((now - sent) * 1e3);
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => return Err(format!("consume: {e}")),
        }
    }
    pt.join().map_err(|_| "producer thread panicked")??;
    close(&c);
    let _ = acks;
    lat.sort_by(f64::total_cmp);
    Ok(json!({
        "samples": lat.len(),
        "received": received,
        "sent": total,
        "p50Ms": percentile(&lat, 50.0),
        "p99Ms": percentile(&lat, 99.0),
    }))
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = raw.first().cloned() else {
        eprintln!("usage: krafka-bench produce|await|consume|e2e --bootstrap host:port --topic T ... (see src/main.rs)");
        std::process::exit(2);
    };
    let result = Args::parse(&raw[1..]).and_then(|a| match cmd.as_str() {
        "produce" => cmd_produce(&a),
        "await" => cmd_await(&a),
        "consume" => cmd_consume(&a),
        "e2e" => cmd_e2e(&a),
        other => Err(format!("unknown subcommand {other:?}")),
    });
    match result {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "librdkafka".into(),
                    json!(rdkafka::util::get_rdkafka_version().1),
                );
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
        }
        Err(e) => {
            eprintln!("krafka-bench {cmd}: {e}");
            std::process::exit(1);
        }
    }
}
