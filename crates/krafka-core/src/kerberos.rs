//! Kerberos (SASL/GSSAPI) without `kinit` and without system libraries.
//!
//! librdkafka normally shells out to `kinit` to get a ticket. krafka turns
//! that off (`sasl.kerberos.min.time.before.relogin=0`) and lets the MIT krb5
//! that is statically linked into the addon obtain the TGT itself from the
//! client keytab, as Java's Krb5LoginModule does in-process.
//!
//! Current limits (tracked in the Kerberos issue): the keytab is handed to krb5
//! through the process-wide `KRB5_CLIENT_KTNAME`, so all GSSAPI clients of one
//! process share one client keytab; the krb5 config comes from `KRB5_CONFIG` or
//! `/etc/krb5.conf`.
use rdkafka::config::ClientConfig;

use crate::config::Config;
use crate::error::{KafkaError, Result};

/// Whether the config selects SASL/GSSAPI.
pub fn uses_gssapi(cc: &ClientConfig) -> bool {
    let mech = cc.get("sasl.mechanisms").or_else(|| cc.get("sasl.mechanism")).unwrap_or("GSSAPI");
    let proto = cc.get("security.protocol").unwrap_or("plaintext").to_ascii_lowercase();
    proto.starts_with("sasl") && mech.eq_ignore_ascii_case("GSSAPI")
}

/// Prepares a GSSAPI config for in-process login.
pub(crate) fn prepare(user: &Config, cc: &mut ClientConfig) -> Result<()> {
    if !uses_gssapi(cc) {
        return Ok(());
    }
    let user_runs_kinit = user.get("sasl.kerberos.kinit.cmd").is_some()
        || user.get("sasl.kerberos.min.time.before.relogin").is_some();
    if !user_runs_kinit {
        // No `kinit` subprocess: krb5 inside the addon logs in by itself.
        cc.set("sasl.kerberos.min.time.before.relogin", "0");
    }
    if let Some(keytab) = user.get("sasl.kerberos.keytab") {
        let meta = std::fs::metadata(keytab).map_err(|e| KafkaError::Kerberos {
            step: "keytab check".into(),
            message: format!("cannot read sasl.kerberos.keytab \"{keytab}\": {e}"),
            fix: "point sasl.kerberos.keytab at a readable keytab file (ktutil or kadmin ktadd makes one)".into(),
        })?;
        if !meta.is_file() {
            return Err(KafkaError::Kerberos {
                step: "keytab check".into(),
                message: format!("sasl.kerberos.keytab \"{keytab}\" is not a file"),
                fix: "point sasl.kerberos.keytab at a keytab file".into(),
            });
        }
        if !user_runs_kinit {
            // The vendored krb5's built-in client keytab path points into its
            // build tree, so always name it explicitly. A memory ccache keeps
            // tickets private to this process (no /tmp/krb5cc_* file).
            std::env::set_var("KRB5_CLIENT_KTNAME", format!("FILE:{keytab}"));
            if std::env::var_os("KRB5CCNAME").is_none() {
                std::env::set_var("KRB5CCNAME", "MEMORY:krafka");
            }
        }
    }
    Ok(())
}
