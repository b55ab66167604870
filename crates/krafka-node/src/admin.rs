//! `NativeAdmin`: topic management.
use std::time::Duration;

use krafka_core::{Admin, NewTopic as CoreNewTopic};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::client::Shared;
use crate::error::{join_error, IntoNapi};

/// A topic to create.
#[napi(object)]
pub struct NewTopic {
    /// Name.
    pub topic: String,
    /// Partitions (default 1).
    pub num_partitions: Option<i32>,
    /// Replication factor (default: the broker's).
    pub replication_factor: Option<i32>,
    /// Topic configs.
    pub config: Option<std::collections::HashMap<String, String>>,
}

/// Low-level admin client used by lib/admin.js's `Admin`.
#[napi]
pub struct NativeAdmin {
    inner: Shared<Admin>,
}

#[napi]
impl NativeAdmin {
    /// Creates an admin client. Throws `ERR__INVALID_ARG` naming the key for bad config.
    #[napi(
        constructor,
        ts_args_type = "config: Record<string, string | number | boolean>"
    )]
    pub fn new(config: Object) -> Result<Self> {
        let cfg = crate::config::from_js(&config)?;
        Ok(NativeAdmin {
            inner: Shared::new(Admin::new(&cfg).napi()?),
        })
    }

    /// Creates topics; rejects with e.g. `ERR_TOPIC_ALREADY_EXISTS`.
    #[napi]
    pub async fn create_topics(&self, topics: Vec<NewTopic>, timeout_ms: u32) -> Result<()> {
        let t: Vec<CoreNewTopic> = topics
            .into_iter()
            .map(|t| CoreNewTopic {
                topic: t.topic,
                num_partitions: t.num_partitions.unwrap_or(1),
                replication_factor: t.replication_factor.unwrap_or(-1),
                config: t.config.unwrap_or_default().into_iter().collect(),
            })
            .collect();
        self.inner
            .create_topics(&t, Duration::from_millis(timeout_ms.into()))
            .await
            .napi()
    }

    /// Deletes topics.
    #[napi]
    pub async fn delete_topics(&self, topics: Vec<String>, timeout_ms: u32) -> Result<()> {
        self.inner
            .delete_topics(&topics, Duration::from_millis(timeout_ms.into()))
            .await
            .napi()
    }

    /// Partition counts from a metadata request (all topics when `topic` is omitted).
    #[napi]
    pub async fn partition_counts(
        &self,
        topic: Option<String>,
        timeout_ms: u32,
    ) -> Result<std::collections::HashMap<String, i32>> {
        let a = self.inner.arc();
        let r = crate::error::blocking(move || {
            a.partitions(topic.as_deref(), Duration::from_millis(timeout_ms.into()))
        })
        .await?;
        Ok(r.into_iter().collect())
    }
}

/// One step of `checkKerberos`.
#[napi(object)]
pub struct KerberosCheckStep {
    /// What was checked.
    pub step: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
    /// `ERR__KRB5_*` code of a failure.
    pub code: Option<String>,
}

/// Walks the Kerberos chain for a GSSAPI config (krb5 config and realm, KDC,
/// keytab, TGT, service ticket, clock skew, broker handshake); off the event loop.
#[napi(ts_args_type = "config: Record<string, string | number | boolean>")]
pub fn check_kerberos_native(config: Object) -> Result<AsyncBlock<Vec<KerberosCheckStep>>> {
    let cfg = crate::config::from_js(&config)?;
    AsyncBlockBuilder::new(async move {
        let steps = tokio::task::spawn_blocking(move || krafka_core::kerberos::check_all(&cfg))
            .await
            .map_err(join_error)?;
        Ok(steps
            .into_iter()
            .map(|s| KerberosCheckStep {
                step: s.step,
                ok: s.ok,
                detail: s.detail,
                fix: s.fix,
                code: s.code,
            })
            .collect())
    })
    .build(&Env::from_raw(config.value().env))
}
