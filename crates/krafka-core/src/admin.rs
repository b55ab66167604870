//! The admin client: topic management.
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic as RdNewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::{ClientKind, Config};
use crate::error::{KafkaError, Result};

/// A topic to create.
#[derive(Debug, Clone)]
pub struct NewTopic {
    /// Name.
    pub topic: String,
    /// Number of partitions.
    pub num_partitions: i32,
    /// Replication factor; `-1` takes the broker's default.
    pub replication_factor: i32,
    /// Topic configs such as `cleanup.policy`.
    pub config: Vec<(String, String)>,
}

/// An admin client.
pub struct Admin {
    inner: AdminClient<DefaultClientContext>,
}

impl Admin {
    /// Creates an admin client; config errors name the key at fault.
    pub fn new(config: &Config) -> Result<Self> {
        let cc = config.build(ClientKind::Admin)?;
        let inner = crate::priority::creating(config, || cc.create())
            .map_err(|e| KafkaError::from_rdkafka(e, "creating admin client"))?;
        Ok(Admin { inner })
    }

    /// Creates topics; resolves when the controller has created all of them.
    /// A topic that already exists is an `ERR_TOPIC_ALREADY_EXISTS` error.
    pub async fn create_topics(&self, topics: &[NewTopic], timeout: Duration) -> Result<()> {
        let news: Vec<RdNewTopic<'_>> = topics
            .iter()
            .map(|t| {
                let mut n = RdNewTopic::new(
                    &t.topic,
                    t.num_partitions,
                    TopicReplication::Fixed(t.replication_factor),
                );
                for (k, v) in &t.config {
                    n = n.set(k, v);
                }
                n
            })
            .collect();
        let opts = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let res = self
            .inner
            .create_topics(&news, &opts)
            .await
            .map_err(|e| KafkaError::from_rdkafka(e, "createTopics"))?;
        per_topic(res, "creating topic")
    }

    /// Deletes topics.
    pub async fn delete_topics(&self, topics: &[String], timeout: Duration) -> Result<()> {
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let opts = AdminOptions::new()
            .operation_timeout(Some(timeout))
            .request_timeout(Some(timeout));
        let res = self
            .inner
            .delete_topics(&names, &opts)
            .await
            .map_err(|e| KafkaError::from_rdkafka(e, "deleteTopics"))?;
        per_topic(res, "deleting topic")
    }

    /// Partition count per topic from a metadata request (all topics when `topic` is `None`). Blocking.
    pub fn partitions(&self, topic: Option<&str>, timeout: Duration) -> Result<Vec<(String, i32)>> {
        let md = self
            .inner
            .inner()
            .fetch_metadata(topic, timeout)
            .map_err(|e| KafkaError::from_rdkafka(e, "metadata"))?;
        let mut out = Vec::new();
        for t in md.topics() {
            if let Some(err) = t.error() {
                return Err(KafkaError::from_code(
                    RDKafkaErrorCode::from(err),
                    format!("metadata of topic \"{}\"", t.name()),
                ));
            }
            out.push((t.name().to_string(), t.partitions().len() as i32));
        }
        Ok(out)
    }
}

fn per_topic(
    res: Vec<std::result::Result<String, (String, RDKafkaErrorCode)>>,
    what: &str,
) -> Result<()> {
    for r in res {
        if let Err((topic, code)) = r {
            return Err(KafkaError::from_code(code, format!("{what} \"{topic}\"")));
        }
    }
    Ok(())
}

/// Captures the first client-level error of a probe connection.
struct ProbeContext {
    first_error: std::sync::Mutex<Option<KafkaError>>,
    identity: Option<crate::kerberos::Identity>,
}

impl rdkafka::ClientContext for ProbeContext {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        let mut e = KafkaError::from_rdkafka(error, "connect");
        if let KafkaError::Kafka { message, .. } = &mut e {
            *message = reason.to_string();
        }
        if let Ok(mut f) = self.first_error.lock() {
            f.get_or_insert(crate::kerberos::refine(e, self.identity.as_ref()));
        }
    }
}

/// Connects and fetches metadata once: proves bootstrap, TLS and SASL work.
/// On failure returns the most specific error seen (e.g. `ERR__KRB5_*`). Blocking.
pub fn probe(config: &Config, timeout: Duration) -> Result<()> {
    let cc = config.build(ClientKind::Admin)?;
    let ctx = ProbeContext {
        first_error: std::sync::Mutex::new(None),
        identity: crate::kerberos::Identity::of(&cc),
    };
    let client: AdminClient<ProbeContext> =
        crate::priority::creating(config, || cc.create_with_context(ctx))
            .map_err(|e| KafkaError::from_rdkafka(e, "creating probe client"))?;
    let res = client.inner().fetch_metadata(None, timeout);
    let seen = client
        .inner()
        .context()
        .first_error
        .lock()
        .ok()
        .and_then(|mut f| f.take());
    match (res, seen) {
        (Ok(_), _) => Ok(()),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(KafkaError::from_rdkafka(e, "metadata request")),
    }
}
