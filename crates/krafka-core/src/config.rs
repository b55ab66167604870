//! Client configuration: Kafka's own dotted keys, as in the Java, C# and
//! confluent-kafka-python clients.
//!
//! krafka only adds defaults that make a migrating Java team's expectations
//! hold (idempotent `acks=all` producers, Java-compatible key partitioning,
//! cooperative rebalancing, at-least-once offset storing) and never overrides
//! a key the user set. Every key and value is checked by librdkafka when the
//! client is constructed, so a typo fails fast with the key's name.
use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;

use crate::error::{KafkaError, Result};

/// Which kind of client a config is for; defaults differ per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A producer.
    Producer,
    /// A balanced consumer (consumer group member).
    Consumer,
    /// An admin client.
    Admin,
}

/// krafka's own keys (not librdkafka's); see README "Kerberos" and
/// "librdkafka's threads and the event loop".
pub const KRAFKA_KEYS: &[&str] = &[
    "krafka.kerberos.realm",
    "krafka.kerberos.kdc",
    crate::priority::KEY,
];

/// Keys whose values are secrets: never echoed in errors or logs.
const SECRET_KEYS: &[&str] = &[
    "sasl.password",
    "sasl.jaas.config",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.password",
    "ssl_key",
];

/// Whether a key holds a secret.
pub fn is_secret(key: &str) -> bool {
    SECRET_KEYS.contains(&key) || key.ends_with(".password") || key.ends_with(".secret")
}

/// Replaces every secret value in `s` with `[redacted]`.
pub fn redact_secrets(secrets: &[String], s: &str) -> String {
    let mut out = s.to_string();
    for v in secrets {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), "[redacted]");
        }
    }
    out
}

/// Removes a secret value from a librdkafka message about `key`.
pub(crate) fn redact(key: &str, value: &str, message: &str) -> String {
    if is_secret(key) && !value.is_empty() {
        message.replace(value, "[redacted]")
    } else {
        message.to_string()
    }
}

/// Defaults krafka applies per client kind unless the user set the key.
fn defaults(kind: ClientKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        // Java's producer defaults since Kafka 3.0, and Java's key -> partition mapping.
        ClientKind::Producer => &[
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("partitioner", "murmur2_random"),
        ],
        // At-least-once: offsets are stored only after the app has processed a
        // message; auto-commit then commits only those. Cooperative rebalancing
        // avoids stop-the-world revocations.
        ClientKind::Consumer => &[
            ("enable.auto.offset.store", "false"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            // librdkafka's 1000 ms stalls a consumer that drained its
            // prefetch queue for a whole second (about 0.12 M msg/s at best).
            ("fetch.queue.backoff.ms", "10"),
        ],
        // Asking for metadata must never create a topic (an admin handle is
        // a producer to librdkafka, and producers allow auto-creation).
        ClientKind::Admin => &[("allow.auto.create.topics", "false")],
    }
}

/// A validated-on-build set of Kafka config entries.
#[derive(Debug, Clone, Default)]
pub struct Config {
    entries: BTreeMap<String, String>,
}

impl Config {
    /// A config from key/value pairs, as the user wrote them.
    pub fn new<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Config {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value the user set for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Sets a key (overriding the user's value).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.entries.insert(key.into(), value.into());
        self
    }

    /// All entries as the user gave them.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Every secret value in this config (passwords, JAAS lines and the
    /// passwords inside them), longest first, for [`redact_secrets`].
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.entries {
            if is_secret(k) && !v.is_empty() {
                out.push(v.clone());
                if k == "sasl.jaas.config" {
                    if let Ok(t) = translate_jaas(v) {
                        out.extend(
                            t.into_iter()
                                .filter(|(k, _)| *k == "sasl.password")
                                .map(|(_, v)| v),
                        );
                    }
                }
            }
        }
        out.retain(|v| v.len() >= 3);
        out.sort_by_key(|v| std::cmp::Reverse(v.len()));
        out
    }

    /// This config with Java's `sasl.jaas.config` translated into librdkafka
    /// keys (keys set explicitly win).
    pub fn resolved(&self) -> Result<Config> {
        let mut c = self.clone();
        if let Some(j) = self.get("sasl.jaas.config") {
            for (k, v) in translate_jaas(j)? {
                c.entries.entry(k.to_string()).or_insert(v);
            }
        }
        Ok(c)
    }

    /// Builds the librdkafka config for `kind`: krafka's defaults, Kerberos
    /// setup, and a full validation of every key and value.
    pub fn build(&self, kind: ClientKind) -> Result<ClientConfig> {
        let mut cc = ClientConfig::new();
        for (k, v) in defaults(kind) {
            cc.set(*k, *v);
        }
        for (k, v) in &self.entries {
            if k.trim().is_empty() {
                return Err(KafkaError::Config {
                    key: k.clone(),
                    reason: "empty key".into(),
                });
            }
            if k == "sasl.jaas.config" {
                // Java's JAAS line, translated so a client.properties can be reused.
                for (jk, jv) in translate_jaas(v)? {
                    if !self.entries.contains_key(jk) {
                        cc.set(jk, jv);
                    }
                }
                continue;
            }
            if k.starts_with("krafka.") {
                // krafka's own keys are handled here, never passed to librdkafka.
                if !KRAFKA_KEYS.contains(&k.as_str()) {
                    return Err(KafkaError::Config {
                        key: k.clone(),
                        reason: format!(
                            "unknown krafka key; known ones: {}",
                            KRAFKA_KEYS.join(", ")
                        ),
                    });
                }
                continue;
            }
            cc.set(k, v);
        }
        // rdkafka would cap librdkafka's log level at the Rust `log` crate's;
        // krafka forwards logs itself (as 'log' events), so follow the config.
        use rdkafka::config::RDKafkaLogLevel as L;
        let level = match cc.get("log_level").and_then(|l| l.parse::<i32>().ok()) {
            Some(l) if l <= 3 => L::Error,
            Some(4) => L::Warning,
            Some(5) => L::Notice,
            Some(6) => L::Info,
            Some(_) => L::Debug,
            None if cc.get("debug").is_some_and(|d| !d.is_empty()) => L::Debug,
            None => L::Warning,
        };
        cc.set_log_level(level);
        crate::kerberos::prepare(self, &mut cc)?;
        if crate::priority::wanted(self)? {
            crate::plugin::load_self(&mut cc);
        }
        // Validate now, naming the key, instead of failing later in a background thread.
        cc.create_native_config()
            .map_err(|e| KafkaError::from_rdkafka(e, "config"))?;
        Ok(cc)
    }
}

/// Translates Java's `sasl.jaas.config` into librdkafka keys: Krb5LoginModule
/// (keyTab, principal), PlainLoginModule and ScramLoginModule (username,
/// password). The value may hold a password, so errors never echo it.
fn translate_jaas(jaas: &str) -> Result<Vec<(&'static str, String)>> {
    let err = |reason: &str| KafkaError::Config {
        key: "sasl.jaas.config".into(),
        reason: reason.into(),
    };
    let body = jaas.trim().trim_end_matches(';');
    let mut parts = body.splitn(3, char::is_whitespace);
    let module = parts.next().unwrap_or("");
    let _flag = parts.next();
    let mut opts = std::collections::HashMap::new();
    let mut rest = parts.next().unwrap_or("").trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            return Err(err("expected key=value options after the login module"));
        };
        let after = after.trim_start();
        let (v, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q
                .find('"')
                .ok_or_else(|| err("unterminated quoted value"))?;
            (&q[..end], &q[end + 1..])
        } else {
            after.split_once(char::is_whitespace).unwrap_or((after, ""))
        };
        opts.insert(k.trim().to_string(), v.to_string());
        rest = tail.trim();
    }
    let get = |k: &str| opts.get(k).cloned();
    match module.rsplit('.').next().unwrap_or("") {
        "Krb5LoginModule" => {
            let mut out = vec![("sasl.mechanisms", "GSSAPI".to_string())];
            if let Some(kt) = get("keyTab") {
                out.push(("sasl.kerberos.keytab", kt));
            }
            if let Some(p) = get("principal") {
                out.push(("sasl.kerberos.principal", p));
            }
            Ok(out)
        }
        "PlainLoginModule" | "ScramLoginModule" => {
            let user = get("username").ok_or_else(|| err("the login module needs username=\"...\""))?;
            let pass = get("password").ok_or_else(|| err("the login module needs password=\"...\""))?;
            Ok(vec![("sasl.username", user), ("sasl.password", pass)])
        }
        other => Err(err(&format!("login module \"{other}\" is not supported (Krb5LoginModule, PlainLoginModule, ScramLoginModule are)"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn jaas_krb5_and_plain_translate() {
        let k = super::translate_jaas(r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/k/a.keytab" principal="a@R";"#).unwrap();
        assert!(k.contains(&("sasl.kerberos.keytab", "/k/a.keytab".into())));
        assert!(k.contains(&("sasl.kerberos.principal", "a@R".into())));
        let p = super::translate_jaas(r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="s3cret";"#).unwrap();
        assert!(p.contains(&("sasl.password", "s3cret".into())));
        let e = super::translate_jaas(r#"x.Foo required password="s3cret";"#).unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }

    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let err = Config::new([("bootstrap.servers", "x:1"), ("no.such.key", "1")])
            .build(ClientKind::Producer)
            .unwrap_err();
        assert_eq!(err.code(), "ERR__INVALID_ARG");
        assert!(err.to_string().contains("no.such.key"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = Config::new([("acks", "sometimes")])
            .build(ClientKind::Producer)
            .unwrap_err();
        assert!(err.to_string().contains("acks"), "{err}");
    }

    #[test]
    fn secrets_are_redacted() {
        let err = Config::new([("sasl.password", "hunter2"), ("security.protocol", "bogus")])
            .build(ClientKind::Producer)
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(
            redact("sasl.password", "hunter2", "bad value hunter2"),
            "bad value [redacted]"
        );
    }

    #[test]
    fn defaults_apply_but_never_override() {
        let cc = Config::new([("acks", "1")])
            .build(ClientKind::Producer)
            .unwrap();
        assert_eq!(cc.get("acks"), Some("1"));
        assert_eq!(cc.get("partitioner"), Some("murmur2_random"));
    }
}
