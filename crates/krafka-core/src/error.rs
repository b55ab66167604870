//! One error type for the whole core.
//!
//! Every error carries a stable string `code` that mirrors librdkafka's error
//! names (`ERR__QUEUE_FULL`, `ERR_MSG_SIZE_TOO_LARGE`, ...), the same names
//! confluent-kafka-python exposes. Bindings expose that code unchanged: it is
//! the contract tests and users match on, while messages may improve.
use std::ffi::CStr;

use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};

/// Result alias used across the core.
pub type Result<T> = std::result::Result<T, KafkaError>;

/// Everything that can go wrong in krafka.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// A config key is unknown or its value is invalid. Never carries a secret value.
    #[error("invalid config \"{key}\": {reason}")]
    Config {
        /// The offending key, as the user spelled it.
        key: String,
        /// What is wrong with it (secret values already redacted).
        reason: String,
    },
    /// A call argument is malformed (wrong shape, out of range).
    #[error("invalid argument \"{field}\": {reason}")]
    InvalidArgument {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// librdkafka or the broker reported an error.
    #[error("{context}: {message}")]
    Kafka {
        /// librdkafka's error code.
        code: RDKafkaErrorCode,
        /// What krafka was doing (names topic, key or principal where known).
        context: String,
        /// librdkafka's description.
        message: String,
        /// Whether retrying the same operation may succeed.
        retriable: bool,
        /// Whether the client is unusable from now on.
        fatal: bool,
        /// Transactions only: the transaction must be aborted.
        txn_requires_abort: bool,
    },
    /// Kerberos could not be set up; `step` says which step failed, `cause`
    /// classifies it (the code is `ERR__KRB5_<cause>`).
    #[error("Kerberos {step} failed: {message}. Fix: {fix}")]
    Kerberos {
        /// Machine-readable cause, e.g. `KDC_UNREACHABLE`.
        cause: String,
        /// The step that failed (e.g. "keytab check").
        step: String,
        /// What happened.
        message: String,
        /// What the user can do about it.
        fix: String,
    },
    /// The client was closed before or during the call.
    #[error("{0}: the client is closed")]
    Closed(String),
}

impl KafkaError {
    /// Stable machine-readable code, e.g. `ERR__INVALID_ARG`.
    pub fn code(&self) -> String {
        match self {
            KafkaError::Config { .. } | KafkaError::InvalidArgument { .. } => {
                "ERR__INVALID_ARG".into()
            }
            KafkaError::Kafka { code, .. } => code_name(*code),
            KafkaError::Kerberos { cause, .. } => format!("ERR__KRB5_{cause}"),
            KafkaError::Closed(_) => "ERR__DESTROY".into(),
        }
    }

    /// Whether retrying may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            KafkaError::Kafka {
                retriable: true,
                ..
            }
        )
    }

    /// Whether the client is unusable from now on.
    pub fn is_fatal(&self) -> bool {
        matches!(self, KafkaError::Kafka { fatal: true, .. })
    }

    /// Transactions only: whether the current transaction must be aborted.
    pub fn txn_requires_abort(&self) -> bool {
        matches!(
            self,
            KafkaError::Kafka {
                txn_requires_abort: true,
                ..
            }
        )
    }

    /// An error from a librdkafka code, with krafka's context.
    pub fn from_code(code: RDKafkaErrorCode, context: impl Into<String>) -> Self {
        KafkaError::Kafka {
            code,
            context: context.into(),
            message: code.to_string(),
            retriable: is_retriable_code(code),
            fatal: false,
            txn_requires_abort: false,
        }
    }

    /// Converts an rdkafka error, naming what krafka was doing.
    pub fn from_rdkafka(err: RdError, context: impl Into<String>) -> Self {
        let context = context.into();
        match err {
            RdError::ClientConfig(_, desc, key, value) => KafkaError::Config {
                reason: crate::config::redact(&key, &value, &desc),
                key,
            },
            RdError::ClientCreation(msg) => KafkaError::Kafka {
                code: RDKafkaErrorCode::InvalidArgument,
                context,
                message: msg,
                retriable: false,
                fatal: false,
                txn_requires_abort: false,
            },
            RdError::Transaction(e) => KafkaError::Kafka {
                code: e.code(),
                context,
                message: e.string(),
                retriable: e.is_retriable(),
                fatal: e.is_fatal(),
                txn_requires_abort: e.txn_requires_abort(),
            },
            RdError::MessageConsumptionFatal(code) => KafkaError::Kafka {
                code,
                context,
                message: code.to_string(),
                retriable: false,
                fatal: true,
                txn_requires_abort: false,
            },
            other => match other.rdkafka_error_code() {
                Some(code) => KafkaError::Kafka {
                    code,
                    context,
                    message: code.to_string(),
                    retriable: is_retriable_code(code),
                    fatal: false,
                    txn_requires_abort: false,
                },
                None => KafkaError::Kafka {
                    code: RDKafkaErrorCode::Fail,
                    context,
                    message: other.to_string(),
                    retriable: false,
                    fatal: false,
                    txn_requires_abort: false,
                },
            },
        }
    }
}

/// librdkafka's own name for a code, prefixed like confluent's clients: `ERR__QUEUE_FULL`.
pub fn code_name(code: RDKafkaErrorCode) -> String {
    let Ok(raw) = rdkafka::bindings::rd_kafka_resp_err_t::try_from(code as i32) else {
        return format!("ERR_{}", code as i32);
    };
    // SAFETY: rd_kafka_err2name returns a static NUL-terminated string for any code.
    let name = unsafe { CStr::from_ptr(rdkafka::bindings::rd_kafka_err2name(raw)) };
    format!("ERR_{}", name.to_string_lossy())
}

fn is_retriable_code(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        code,
        QueueFull
            | MessageTimedOut
            | BrokerTransportFailure
            | AllBrokersDown
            | RequestTimedOut
            | NotEnoughReplicas
            | NotEnoughReplicasAfterAppend
            | LeaderNotAvailable
            | NotLeaderForPartition
            | NetworkException
            | CoordinatorLoadInProgress
            | CoordinatorNotAvailable
            | NotCoordinator
            | OperationTimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_mirror_librdkafka_names() {
        assert_eq!(code_name(RDKafkaErrorCode::QueueFull), "ERR__QUEUE_FULL");
        assert_eq!(
            code_name(RDKafkaErrorCode::MessageSizeTooLarge),
            "ERR_MSG_SIZE_TOO_LARGE"
        );
        let e = KafkaError::Config {
            key: "foo".into(),
            reason: "unknown".into(),
        };
        assert_eq!(e.code(), "ERR__INVALID_ARG");
        assert!(e.to_string().contains("\"foo\""));
    }
}
