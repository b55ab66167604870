//! JS config objects into core configs. Values may be strings, numbers or
//! booleans (as in confluent-kafka-python); anything else is rejected with the key's name.
use krafka_core::{Config, KafkaError};
use napi::bindgen_prelude::*;

use crate::error::to_napi;

/// Reads `{ 'bootstrap.servers': '...', ... }` into a core config.
pub fn from_js(obj: &Object) -> Result<Config> {
    let mut entries = Vec::new();
    for key in Object::keys(obj)? {
        let v: Unknown = obj.get_named_property(&key)?;
        let s = match v.get_type()? {
            ValueType::String => v.coerce_to_string()?.into_utf8()?.as_str()?.to_string(),
            ValueType::Number | ValueType::Boolean => {
                v.coerce_to_string()?.into_utf8()?.as_str()?.to_string()
            }
            ValueType::Undefined => continue,
            other => {
                return Err(to_napi(KafkaError::Config {
                    reason: format!("value must be a string, number or boolean, got {other}"),
                    key,
                }))
            }
        };
        entries.push((key, s));
    }
    Ok(Config::new(entries))
}
