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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::batch::MessageBatch;
use crate::config::{ClientKind, Config};
use crate::error::{KafkaError, Result};
use crate::record::TopicPartitionOffset;

/// How often [`Consumer::seek`] retries a partition that is not fetching yet.
const SEEK_RETRY: Duration = Duration::from_millis(20);

/// What a rebalance did to this member's assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions were added to this member.
    Assigned,
    /// Partitions are being taken away in an orderly way: commit now.
    Revoked,
    /// Partitions were lost (session timed out): another member may own them
    /// already, so committing is pointless.
    Lost,
}

/// Receives group events. Called on the consumer's polling thread; a
/// revocation waits for `on_rebalance` to return, so the app can commit first.
pub trait ConsumerListener: Send + Sync + 'static {
    /// Assignment changed. Blocks the rebalance until it returns. `poll` is
    /// the number of the [`Consumer::poll_batch`] call it happened in (see
    /// [`MessageBatch::poll`](crate::MessageBatch::poll)).
    fn on_rebalance(&self, event: RebalanceEvent, partitions: Vec<TopicPartitionOffset>, poll: u64);
    /// A client-level error (broker down, authentication failed, ...).
    fn on_error(&self, error: KafkaError);
    /// A librdkafka log line (secrets redacted). Default: ignored.
    fn on_log(&self, _line: crate::record::LogLine) {}
    /// librdkafka's statistics, as its JSON text (every
    /// `statistics.interval.ms`; see librdkafka's STATISTICS.md). Called from
    /// a poll, so only while the app consumes. Default: ignored.
    fn on_stats(&self, _json: String) {}
    /// SASL/OAUTHBEARER needs a token; blocks until the app's provider answers.
    fn on_oauth_refresh(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> std::result::Result<OAuthToken, String> {
        Err("no OAUTHBEARER token provider: pass oauth_cb in the config".into())
    }
}

/// A token from the app's OAUTHBEARER provider.
pub use rdkafka::client::OAuthToken;

/// Forwards librdkafka's rebalance and error callbacks to the listener.
pub struct Context {
    listener: Option<Arc<dyn ConsumerListener>>,
    identity: Option<crate::kerberos::Identity>,
    secrets: Vec<String>,
    /// Revocations (and losses) so far: poll_batch compares it around each
    /// poll to notice one that happened while its batch was filling.
    revocations: AtomicU64,
    /// poll_batch calls so far: a binding that reads ahead tells by this
    /// number which batches were filled before a rebalance.
    polls: AtomicU64,
    /// No group.id of the app's, and auto.offset.reset is not "error": the
    /// only group request is librdkafka's lookup of krafka's stand-in (see
    /// [`standalone`] and [`Context::stand_in_refused`]).
    stand_in_only: bool,
}

impl ClientContext for Context {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(
        &self,
        config: Option<&str>,
    ) -> std::result::Result<OAuthToken, Box<dyn std::error::Error>> {
        match &self.listener {
            Some(l) => l.on_oauth_refresh(config).map_err(Into::into),
            None => Err("no OAUTHBEARER token provider".into()),
        }
    }

    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.forward_log(level, fac, log_message);
    }

    /// The text as it came: rdkafka's default would decode it into its own
    /// struct first, for every interval, even with nobody listening.
    fn stats_raw(&self, statistics: &[u8]) {
        if let Some(l) = &self.listener {
            l.on_stats(String::from_utf8_lossy(statistics).into_owned());
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if self.stand_in_refused(&error, reason) {
            return;
        }
        if let Some(l) = &self.listener {
            let mut e = KafkaError::from_rdkafka(error, "consumer");
            if let KafkaError::Kafka { message, .. } = &mut e {
                *message = crate::config::redact_secrets(&self.secrets, reason);
            }
            l.on_error(crate::kerberos::refine(e, self.identity.as_ref()));
        }
    }
}

impl Context {
    /// librdkafka looks up the stand-in group's coordinator. Java's standalone
    /// consumer sends no group request at all, so a principal allowed no
    /// group is refused a request the app never made: that refusal becomes a
    /// log line (true) instead of an error the app must handle. librdkafka
    /// reports it both as a client error and on the consumer queue.
    fn stand_in_refused(&self, error: &rdkafka::error::KafkaError, reason: &str) -> bool {
        if !self.stand_in_only
            || error.rdkafka_error_code() != Some(RDKafkaErrorCode::GroupAuthorizationFailed)
        {
            return false;
        }
        let why = "ignored: this consumer has no group.id, and reading assigned partitions needs no group";
        self.forward_log(
            rdkafka::config::RDKafkaLogLevel::Debug,
            "STANDALONE",
            &format!("{reason} ({why})"),
        );
        true
    }

    fn forward_log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, msg: &str) {
        if let Some(l) = &self.listener {
            l.on_log(crate::record::LogLine {
                level: level as i32,
                facility: fac.to_string(),
                message: crate::config::redact_secrets(&self.secrets, msg),
            });
        }
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            self.revocations.fetch_add(1, Ordering::AcqRel);
        }
        if let (Some(l), Rebalance::Revoke(tpl)) = (&self.listener, rebalance) {
            let event = if consumer.assignment_lost() {
                RebalanceEvent::Lost
            } else {
                RebalanceEvent::Revoked
            };
            l.on_rebalance(event, from_tpl(tpl), self.polls.load(Ordering::Acquire));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let (Some(l), Rebalance::Assign(tpl)) = (&self.listener, rebalance) {
            l.on_rebalance(
                RebalanceEvent::Assigned,
                from_tpl(tpl),
                self.polls.load(Ordering::Acquire),
            );
        }
    }
}

/// A consumer group member. All methods take `&self`; blocking ones say so.
pub struct Consumer {
    inner: BaseConsumer<Context>,
    /// The config names a group.id; otherwise the consumer is standalone (see [`standalone`]).
    has_group: bool,
    /// Where assign() starts a partition given no offset: the group's
    /// committed offset; a standalone consumer's auto.offset.reset end.
    start: Offset,
    closed: AtomicBool,
    /// Set when close() starts: no more polling, but commits made by
    /// revocation hooks during the close still go through.
    closing: AtomicBool,
    /// An error seen after a batch had already started; returned on the next call.
    deferred: Mutex<Option<KafkaError>>,
    /// Data bytes of the last full-size batch: the next one reserves as much.
    batch_bytes: AtomicUsize,
}

impl Consumer {
    /// Creates a consumer; config errors name the key at fault.
    pub fn new(config: &Config, listener: Option<Arc<dyn ConsumerListener>>) -> Result<Self> {
        let mut cc = config.build(ClientKind::Consumer)?;
        let has_group = config.get("group.id").is_some_and(|g| !g.is_empty());
        let start = if has_group {
            Offset::Stored
        } else {
            standalone(config, &mut cc)?
        };
        let context = Context {
            listener,
            identity: crate::kerberos::Identity::of(&cc),
            secrets: config
                .resolved()
                .map(|c| c.secret_values())
                .unwrap_or_default(),
            revocations: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            // With "error", librdkafka also fetches committed offsets under the
            // stand-in name, and a refusal there must stay an error.
            stand_in_only: !has_group && start != Offset::Stored,
        };
        let inner: BaseConsumer<Context> =
            crate::priority::creating(config, || cc.create_with_context(context))
                .map_err(|e| KafkaError::from_rdkafka(e, "creating consumer"))?;
        Ok(Consumer {
            inner,
            has_group,
            start,
            closed: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            deferred: Mutex::new(None),
            batch_bytes: AtomicUsize::new(0),
        })
    }

    fn check_open(&self, what: &str) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(KafkaError::Closed(what.into()))
        } else {
            Ok(())
        }
    }

    /// A consumer without the user's `group.id` has no group to act for.
    fn check_group(&self, what: &str) -> Result<()> {
        if self.has_group {
            return Ok(());
        }
        Err(KafkaError::Config {
            key: "group.id".into(),
            reason: format!("{what} needs a \"group.id\" in the consumer config (any name; offsets are committed under it); without one, assign() consumes from the offsets you give or auto.offset.reset"),
        })
    }

    /// Joins the group for these topics (a name starting with `^` is a regex).
    pub fn subscribe(&self, topics: &[String]) -> Result<()> {
        self.check_open("subscribe")?;
        self.check_group("subscribe()")?;
        if topics.is_empty() {
            return Err(KafkaError::InvalidArgument {
                field: "topics".into(),
                reason: "must name at least one topic".into(),
            });
        }
        for t in topics {
            validate_topic(t)?;
        }
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.inner
            .subscribe(&refs)
            .map_err(|e| KafkaError::from_rdkafka(e, format!("subscribe to {topics:?}")))
    }

    /// Manual assignment (no group rebalancing). `offset: None` resumes from the
    /// committed offset (without a `group.id`: where auto.offset.reset says).
    pub fn assign(&self, partitions: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("assign")?;
        let tpl = to_tpl(partitions, self.start)?;
        self.inner
            .assign(&tpl)
            .map_err(|e| KafkaError::from_rdkafka(e, "assign"))
    }

    /// Blocks until at least one message arrives or `wait` passes, then
    /// returns up to `max` messages already fetched. Empty on timeout.
    pub fn poll_batch(&self, max: usize, wait: Duration) -> Result<MessageBatch> {
        self.check_open("poll")?;
        if self.closing.load(Ordering::Acquire) {
            return Err(KafkaError::Closed("poll".into()));
        }
        if let Some(e) = self.deferred.lock().ok().and_then(|mut d| d.take()) {
            return Err(e);
        }
        let deadline = Instant::now() + wait;
        let mut out = MessageBatch::with_capacity(max.min(4096), 0);
        out.poll = self.inner.context().polls.fetch_add(1, Ordering::AcqRel) + 1;
        let revocations = &self.inner.context().revocations;
        while out.len() < max && !out.is_full() {
            let timeout = if out.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            let seen = revocations.load(Ordering::Acquire);
            let polled = self.inner.poll(timeout);
            if !out.is_empty() && revocations.load(Ordering::Acquire) != seen {
                // A revocation ran inside that poll: rows taken before it may be
                // of partitions gone now. Their new owner starts from the
                // committed offset, so dropping them loses nothing.
                self.drop_unassigned(&mut out);
            }
            match polled {
                None => {
                    if !out.is_empty() || Instant::now() >= deadline {
                        break;
                    }
                }
                Some(Ok(m)) => {
                    if out.is_empty() {
                        // Size the data like the last full batch, so it rarely
                        // grows; only once a message is there (empty polls stay small).
                        out.data.reserve(self.batch_bytes.load(Ordering::Relaxed));
                    }
                    out.push(&m)
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) if self.inner.context().stand_in_refused(&e, &e.to_string()) => {}
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
        if out.len() == max {
            self.batch_bytes.store(out.data.len(), Ordering::Relaxed);
        }
        Ok(out)
    }

    fn drop_unassigned(&self, batch: &mut MessageBatch) {
        // An assignment is a handful of partitions: a scan, no allocation per row.
        let owned: Vec<(String, i32)> = match self.inner.assignment() {
            Ok(tpl) => tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect(),
            // Unknown: keep every row (dropping a row of a partition still
            // owned would skip it for good; storing one of a revoked one fails harmlessly).
            Err(_) => return,
        };
        batch.retain_partitions(|t, p| owned.iter().any(|(ot, op)| ot == t && *op == p));
    }

    /// Marks messages as processed: stores `offset` (the *next* offset to
    /// read) per partition for the next commit.
    pub fn store_offsets(&self, offsets: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("storeOffsets")?;
        if offsets.is_empty() {
            return Ok(());
        }
        let tpl = to_tpl(offsets, Offset::Invalid)?;
        self.inner
            .store_offsets(&tpl)
            .map_err(|e| KafkaError::from_rdkafka(e, "storeOffsets"))
    }

    /// Commits synchronously: the given offsets, or all stored ones when `None`.
    /// Blocks until the broker has answered; call from a worker thread.
    pub fn commit(&self, offsets: Option<&[TopicPartitionOffset]>) -> Result<()> {
        self.check_open("commit")?;
        self.check_group("commit()")?;
        let res = match offsets {
            Some(o) => self
                .inner
                .commit(&to_tpl(o, Offset::Invalid)?, CommitMode::Sync),
            None => self.inner.commit_consumer_state(CommitMode::Sync),
        };
        match res {
            // Nothing stored since the last commit is not a failure.
            Err(rdkafka::error::KafkaError::ConsumerCommit(
                rdkafka::types::RDKafkaErrorCode::NoOffset,
            )) => Ok(()),
            r => r.map_err(|e| KafkaError::from_rdkafka(e, "commit")),
        }
    }

    /// Committed offsets of the group for these partitions. Blocking.
    pub fn committed(
        &self,
        partitions: &[TopicPartitionOffset],
        timeout: Duration,
    ) -> Result<Vec<TopicPartitionOffset>> {
        self.check_open("committed")?;
        self.check_group("committed()")?;
        let tpl = to_tpl(partitions, Offset::Invalid)?;
        let res = self
            .inner
            .committed_offsets(tpl, timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "committed"))?;
        Ok(from_tpl(&res))
    }

    /// The partitions currently assigned to this member.
    pub fn assignment(&self) -> Result<Vec<TopicPartitionOffset>> {
        self.check_open("assignment")?;
        let tpl = self
            .inner
            .assignment()
            .map_err(|e| KafkaError::from_rdkafka(e, "assignment"))?;
        Ok(from_tpl(&tpl))
    }

    /// The group metadata a transactional producer needs to commit this
    /// consumer's offsets (`sendOffsetsToTransaction`).
    pub fn group_metadata(&self) -> Result<rdkafka::consumer::ConsumerGroupMetadata> {
        self.check_open("groupMetadata")?;
        self.check_group("groupMetadata()")?;
        self.inner.group_metadata().ok_or_else(|| {
            KafkaError::from_code(
                rdkafka::types::RDKafkaErrorCode::InvalidArgument,
                "groupMetadata: no group",
            )
        })
    }

    /// Moves the fetch position of assigned partitions. Blocking up to `timeout`.
    ///
    /// librdkafka refuses (`ERR__STATE`) to seek a partition that is assigned
    /// but not fetching yet: right after `assign()`, or in an `onAssign` hook
    /// while the committed offset is being looked up (librdkafka #3959). Java's
    /// consumer takes that seek, and users port code that does it; so such
    /// partitions are retried until they start fetching or `timeout` runs out.
    pub fn seek(&self, partitions: &[TopicPartitionOffset], timeout: Duration) -> Result<()> {
        self.check_open("seek")?;
        let deadline = Instant::now() + timeout;
        let mut pending = partitions.to_vec();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let res = self
                .inner
                .seek_partitions(to_tpl(&pending, Offset::Beginning)?, left)
                .map_err(|e| KafkaError::from_rdkafka(e, "seek"))?;
            let mut not_started = Vec::new();
            for e in res.elements() {
                let Err(err) = e.error() else { continue };
                let (topic, partition) = (e.topic(), e.partition());
                let assigned = self.is_assigned(topic, partition);
                let context = if !assigned {
                    format!("seek {topic}[{partition}]: not assigned to this consumer (subscribe() and wait for onAssign, or assign() it)")
                } else if err.rdkafka_error_code() == Some(RDKafkaErrorCode::State) {
                    if Instant::now() < deadline {
                        not_started.extend(
                            pending
                                .iter()
                                .find(|p| p.topic == topic && p.partition == partition)
                                .cloned(),
                        );
                        continue;
                    }
                    format!("seek {topic}[{partition}]: assigned, but not fetching after {} ms (still looking up its start offset?): retry with a longer timeoutMs", timeout.as_millis())
                } else {
                    format!("seek {topic}[{partition}]")
                };
                return Err(KafkaError::from_rdkafka(err, context));
            }
            if not_started.is_empty() {
                return Ok(());
            }
            std::thread::sleep(SEEK_RETRY.min(deadline.saturating_duration_since(Instant::now())));
            pending = not_started;
        }
    }

    /// Whether `topic[partition]` is in the current assignment.
    fn is_assigned(&self, topic: &str, partition: i32) -> bool {
        self.inner
            .assignment()
            .map(|tpl| tpl.find_partition(topic, partition).is_some())
            .unwrap_or(false)
    }

    /// Stops fetching from these partitions until [`Consumer::resume`].
    pub fn pause(&self, partitions: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("pause")?;
        self.inner
            .pause(&to_tpl(partitions, Offset::Invalid)?)
            .map_err(|e| KafkaError::from_rdkafka(e, "pause"))
    }

    /// Resumes fetching from paused partitions.
    pub fn resume(&self, partitions: &[TopicPartitionOffset]) -> Result<()> {
        self.check_open("resume")?;
        self.inner
            .resume(&to_tpl(partitions, Offset::Invalid)?)
            .map_err(|e| KafkaError::from_rdkafka(e, "resume"))
    }

    /// Fetch positions (next offset to be handed out) of the assigned partitions.
    pub fn position(&self) -> Result<Vec<TopicPartitionOffset>> {
        self.check_open("position")?;
        let tpl = self
            .inner
            .position()
            .map_err(|e| KafkaError::from_rdkafka(e, "position"))?;
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
        if self.closing.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // Every consumer has a librdkafka group (see `standalone`), so every one closes it.
        let result = self
            .inner
            .close_queue()
            .map_err(|e| KafkaError::from_rdkafka(e, "close"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while result.is_ok() && !self.inner.closed() && Instant::now() < deadline {
            let _ = self.inner.poll(Duration::from_millis(100));
        }
        self.closed.store(true, Ordering::Release);
        result
    }
}

/// A consumer without `group.id`, as Java's: assign() and reading work, with
/// no group. librdkafka cannot consume at all without a group.id (its #3261),
/// so a name of krafka's own stands in. It is never a group member and
/// nothing is committed or read under it: subscribe(), commit(), committed()
/// and groupMetadata() refuse without the user's group.id, auto-commit is
/// off, and a partition assigned without an offset starts where
/// auto.offset.reset says (the returned offset) instead of asking for
/// committed offsets there are none of. (librdkafka still looks up the
/// group's coordinator by that name, which creates nothing on the broker;
/// a principal refused that lookup gets a log line, not an error, unless
/// auto.offset.reset is "error": see `Context::stand_in_refused`.)
fn standalone(config: &Config, cc: &mut rdkafka::ClientConfig) -> Result<Offset> {
    // librdkafka's spellings of true.
    let auto_commit = config.get("enable.auto.commit").map(str::trim);
    if auto_commit
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("t") || v == "1")
    {
        return Err(KafkaError::Config {
            key: "enable.auto.commit".into(),
            reason:
                "true needs a \"group.id\" in the consumer config: offsets are committed under it"
                    .into(),
        });
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    cc.set(
        "group.id",
        format!("krafka-standalone-{}-{t}-{n}", std::process::id()),
    );
    cc.set("enable.auto.commit", "false");
    // librdkafka's names and default ("largest"); "error" keeps librdkafka's
    // own handling, which reports that there is no offset to start from.
    let reset = config.get("auto.offset.reset").unwrap_or("largest").trim();
    Ok(match reset.to_ascii_lowercase().as_str() {
        "smallest" | "earliest" | "beginning" => Offset::Beginning,
        "largest" | "latest" | "end" => Offset::End,
        _ => Offset::Stored,
    })
}

/// Kafka's legal topic names: 1-249 of `[a-zA-Z0-9._-]`; a name starting with
/// `^` is a regex, which librdkafka checks itself.
fn validate_topic(t: &str) -> Result<()> {
    if t.starts_with('^') {
        return Ok(());
    }
    let legal = !t.is_empty()
        && t.len() <= 249
        && t != "."
        && t != ".."
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if legal {
        Ok(())
    } else {
        Err(KafkaError::InvalidArgument {
            field: "topics".into(),
            reason: format!("\"{t}\" is not a legal topic name (1-249 characters of a-z, A-Z, 0-9, '.', '_', '-')"),
        })
    }
}

pub(crate) fn to_tpl(
    parts: &[TopicPartitionOffset],
    default: Offset,
) -> Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::with_capacity(parts.len());
    for p in parts {
        if p.partition < 0 {
            return Err(KafkaError::InvalidArgument {
                field: "partition".into(),
                reason: format!("{} is negative", p.partition),
            });
        }
        let off = p.offset.map(Offset::Offset).unwrap_or(default);
        tpl.add_partition_offset(&p.topic, p.partition, off)
            .map_err(|e| {
                KafkaError::from_rdkafka(e, format!("offset for {}[{}]", p.topic, p.partition))
            })?;
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
