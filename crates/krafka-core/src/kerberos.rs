//! Kerberos (SASL/GSSAPI) without `kinit` and without system libraries.
//!
//! librdkafka normally shells out to `kinit`. krafka turns that off
//! (`sasl.kerberos.min.time.before.relogin=0`) and logs in in-process, as
//! Java's Krb5LoginModule does, with the MIT krb5 that is statically linked
//! into the addon:
//!
//! 1. **Login.** For each (principal, keytab) a background thread gets a TGT
//!    from the keytab into a private memory cache `MEMORY:krafka-<n>` and
//!    logs in again before the ticket expires (at 80 % of its life).
//! 2. **Per-client identity.** The addon is also a librdkafka plugin
//!    (`plugin.library.paths` points at itself; see [`crate::plugin`]).
//!    Its `on_thread_start` interceptor points each librdkafka thread of a
//!    client at that client's cache with MIT's thread-local
//!    `gss_krb5_ccache_name`, so two clients in one process authenticate as
//!    two principals. Broker threads wait (bounded) for the first login, so
//!    the first SASL handshake never races an empty cache.
//!
//! Without a keytab, the user's own ticket cache (`KRB5CCNAME` or the
//! default cache, filled by their `kinit`) is used as is.
//!
//! **Windows** has none of this: librdkafka's SSPI provider authenticates as
//! the Windows account the process runs as, so the MIT krb5 code is not
//! built there and keytab / krb5.conf settings are rejected by name (see
//! the "Windows (SSPI)" section at the end).
use std::time::Duration;
#[cfg(not(windows))]
use std::{
    collections::HashMap,
    ffi::{c_char, c_int, c_void, CStr, CString},
    sync::{Arc, Condvar, Mutex, OnceLock},
    time::{SystemTime, UNIX_EPOCH},
};

use rdkafka::config::ClientConfig;

use crate::config::Config;
use crate::error::{KafkaError, Result};

/// MIT krb5 and GSS-API entry points. They resolve to the static krb5 that
/// sasl2-sys links into the addon (the ldd test pins that no system krb5 is used).
#[cfg(not(windows))]
#[allow(non_camel_case_types)]
mod ffi {
    use std::ffi::{c_char, c_int, c_uint, c_void};

    pub type krb5_error_code = i32;
    pub type krb5_context = *mut c_void;
    pub type krb5_principal = *mut c_void;
    pub type krb5_keytab = *mut c_void;
    pub type krb5_ccache = *mut c_void;

    #[repr(C)]
    pub struct krb5_data {
        pub magic: i32,
        pub length: c_uint,
        pub data: *mut c_char,
    }

    #[repr(C)]
    pub struct krb5_keyblock {
        pub magic: i32,
        pub enctype: i32,
        pub length: c_uint,
        pub contents: *mut u8,
    }

    #[repr(C)]
    pub struct krb5_ticket_times {
        pub authtime: i32,
        pub starttime: i32,
        pub endtime: i32,
        pub renew_till: i32,
    }

    /// `krb5_creds` as laid out in krb5.h (1.19).
    #[repr(C)]
    pub struct krb5_creds {
        pub magic: i32,
        pub client: krb5_principal,
        pub server: krb5_principal,
        pub keyblock: krb5_keyblock,
        pub times: krb5_ticket_times,
        pub is_skey: c_uint,
        pub ticket_flags: i32,
        pub addresses: *mut *mut c_void,
        pub ticket: krb5_data,
        pub second_ticket: krb5_data,
        pub authdata: *mut *mut c_void,
    }

    extern "C" {
        pub fn krb5_init_context(ctx: *mut krb5_context) -> krb5_error_code;
        pub fn krb5_free_context(ctx: krb5_context);
        pub fn krb5_parse_name(
            ctx: krb5_context,
            name: *const c_char,
            out: *mut krb5_principal,
        ) -> krb5_error_code;
        pub fn krb5_free_principal(ctx: krb5_context, p: krb5_principal);
        pub fn krb5_kt_resolve(
            ctx: krb5_context,
            name: *const c_char,
            out: *mut krb5_keytab,
        ) -> krb5_error_code;
        pub fn krb5_kt_close(ctx: krb5_context, kt: krb5_keytab) -> krb5_error_code;
        pub fn krb5_get_init_creds_keytab(
            ctx: krb5_context,
            creds: *mut krb5_creds,
            client: krb5_principal,
            keytab: krb5_keytab,
            start_time: i32,
            in_tkt_service: *const c_char,
            options: *mut c_void,
        ) -> krb5_error_code;
        pub fn krb5_free_cred_contents(ctx: krb5_context, creds: *mut krb5_creds);
        pub fn krb5_cc_resolve(
            ctx: krb5_context,
            name: *const c_char,
            out: *mut krb5_ccache,
        ) -> krb5_error_code;
        pub fn krb5_cc_initialize(
            ctx: krb5_context,
            cc: krb5_ccache,
            p: krb5_principal,
        ) -> krb5_error_code;
        pub fn krb5_cc_store_cred(
            ctx: krb5_context,
            cc: krb5_ccache,
            creds: *mut krb5_creds,
        ) -> krb5_error_code;
        pub fn krb5_cc_close(ctx: krb5_context, cc: krb5_ccache) -> krb5_error_code;
        pub fn krb5_get_error_message(ctx: krb5_context, code: krb5_error_code) -> *const c_char;
        pub fn krb5_free_error_message(ctx: krb5_context, msg: *const c_char);
        pub fn gss_krb5_ccache_name(
            minor: *mut c_uint,
            name: *const c_char,
            out_name: *mut *const c_char,
        ) -> c_uint;
    }

    pub const _UNUSED: c_int = 0;
}

/// krb5 error codes krafka explains (krb5.h).
#[cfg(not(windows))]
mod code {
    pub const C_PRINCIPAL_UNKNOWN: i32 = -1765328378;
    pub const S_PRINCIPAL_UNKNOWN: i32 = -1765328377;
    pub const PREAUTH_FAILED: i32 = -1765328360;
    pub const KEY_EXP: i32 = -1765328361;
    pub const BAD_INTEGRITY: i32 = -1765328353;
    pub const TKT_EXPIRED: i32 = -1765328352;
    pub const SKEW: i32 = -1765328347;
    pub const KDCREP_SKEW: i32 = -1765328236;
    pub const REALM_UNKNOWN: i32 = -1765328230;
    pub const KDC_UNREACH: i32 = -1765328228;
    pub const KT_NOTFOUND: i32 = -1765328203;
    pub const KT_END: i32 = -1765328202;
    pub const KT_KVNONOTFOUND: i32 = -1765328154;
    pub const REALM_CANT_RESOLVE: i32 = -1765328164;
    pub const CONFIG_NODEFREALM: i32 = -1765328160;
    pub const CONFIG_CANTOPEN: i32 = -1765328249;
    pub const ENOENT: i32 = 2;
    pub const EACCES: i32 = 13;
}

/// Turns a krb5 failure into a Kerberos error with a cause-specific code and a fix.
#[cfg(not(windows))]
fn explain(step: &str, code: i32, detail: &str, principal: &str, keytab: &str) -> KafkaError {
    let realm = principal.rsplit_once('@').map_or("", |(_, r)| r);
    let (cause, fix): (&str, String) = match code {
        code::ENOENT | code::EACCES => (
            "KEYTAB_UNREADABLE",
            format!("make sasl.kerberos.keytab \"{keytab}\" exist and be readable by this process"),
        ),
        code::KT_NOTFOUND | code::KT_END | code::KT_KVNONOTFOUND => (
            "PRINCIPAL_NOT_IN_KEYTAB",
            format!("the keytab \"{keytab}\" has no key for \"{principal}\": check sasl.kerberos.principal, or export a new keytab (kadmin ktadd / ktutil)"),
        ),
        code::PREAUTH_FAILED | code::BAD_INTEGRITY => (
            "STALE_KEY",
            format!("the keytab's key for \"{principal}\" no longer matches the KDC (the password or key version changed): export a fresh keytab"),
        ),
        code::C_PRINCIPAL_UNKNOWN => (
            "PRINCIPAL_UNKNOWN",
            format!("the KDC does not know \"{principal}\": check sasl.kerberos.principal and its realm"),
        ),
        code::S_PRINCIPAL_UNKNOWN => (
            "SERVICE_UNKNOWN",
            "the KDC does not know the broker's service principal: check sasl.kerberos.service.name and that bootstrap.servers uses the broker's host name (not an IP or alias)".to_string(),
        ),
        code::KDC_UNREACH => (
            "KDC_UNREACHABLE",
            format!("no KDC for realm \"{realm}\" answered: check the kdc entries in krb5.conf (or krafka.kerberos.kdc), the network and firewalls (port 88)"),
        ),
        code::REALM_UNKNOWN | code::REALM_CANT_RESOLVE | code::CONFIG_NODEFREALM | code::CONFIG_CANTOPEN => (
            "UNKNOWN_REALM",
            format!("no configuration for realm \"{realm}\": set KRB5_CONFIG to a krb5.conf that lists it, or give krafka.kerberos.realm and krafka.kerberos.kdc"),
        ),
        code::SKEW | code::KDCREP_SKEW => (
            "CLOCK_SKEW",
            "this host's clock differs from the KDC's by more than the allowed skew (usually 5 minutes): sync the clock (NTP)".to_string(),
        ),
        code::TKT_EXPIRED | code::KEY_EXP => (
            "EXPIRED",
            format!("the credentials for \"{principal}\" have expired: renew them (a keytab login renews by itself; a ticket cache needs a new kinit)"),
        ),
        _ => ("FAILED", "see the krb5 message; KRB5_TRACE=/dev/stderr shows every step".to_string()),
    };
    KafkaError::Kerberos {
        cause: cause.into(),
        step: step.into(),
        message: detail.to_string(),
        fix,
    }
}

/// The outcome of the latest login attempt of one principal.
#[cfg(not(windows))]
#[derive(Clone)]
enum Status {
    Pending,
    Ok { endtime: i64 },
    Failed(KafkaError),
}

/// One principal's in-process login and its private ticket cache.
#[cfg(not(windows))]
pub struct Login {
    principal: String,
    keytab: String,
    ccache: CString,
    status: Mutex<Status>,
    changed: Condvar,
}

#[cfg(not(windows))]
impl Login {
    /// The cache this principal's clients use, e.g. `MEMORY:krafka-1`.
    pub fn ccache(&self) -> &str {
        self.ccache.to_str().unwrap_or_default()
    }

    /// Waits (bounded) for the first login attempt; returns its error, if any.
    pub fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let Ok(guard) = self.status.lock() else {
            return Ok(());
        };
        let Ok((guard, _)) = self
            .changed
            .wait_timeout_while(guard, timeout, |s| matches!(s, Status::Pending))
        else {
            return Ok(());
        };
        match &*guard {
            Status::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// When the current TGT expires (seconds since the epoch), if logged in.
    pub fn expires_at(&self) -> Option<i64> {
        match self.status.lock().map(|s| s.clone()) {
            Ok(Status::Ok { endtime }) => Some(endtime),
            _ => None,
        }
    }

    /// The latest login error, if the latest attempt failed.
    pub fn last_error(&self) -> Option<KafkaError> {
        match self.status.lock().map(|s| s.clone()) {
            Ok(Status::Failed(e)) => Some(e),
            _ => None,
        }
    }

    fn set(&self, s: Status) {
        if let Ok(mut g) = self.status.lock() {
            *g = s;
            self.changed.notify_all();
        }
    }

    /// Gets a TGT from the keytab into this login's memory cache.
    fn login_once(&self) -> Result<i64> {
        let fail = |step: &str, ctx: ffi::krb5_context, code: i32| {
            // SAFETY: krb5_get_error_message accepts a null context and returns an owned string.
            let detail = unsafe {
                let m = ffi::krb5_get_error_message(ctx, code);
                let s = CStr::from_ptr(m).to_string_lossy().into_owned();
                ffi::krb5_free_error_message(ctx, m);
                s
            };
            explain(step, code, &detail, &self.principal, &self.keytab)
        };
        let principal = CString::new(self.principal.as_str())
            .map_err(|_| bad_key("sasl.kerberos.principal"))?;
        let keytab = CString::new(format!("FILE:{}", self.keytab))
            .map_err(|_| bad_key("sasl.kerberos.keytab"))?;
        // SAFETY: every krb5 object is created and released within this block.
        unsafe {
            let mut ctx: ffi::krb5_context = std::ptr::null_mut();
            let rc = ffi::krb5_init_context(&mut ctx);
            if rc != 0 {
                return Err(fail("krb5 configuration", std::ptr::null_mut(), rc));
            }
            let mut p: ffi::krb5_principal = std::ptr::null_mut();
            let mut kt: ffi::krb5_keytab = std::ptr::null_mut();
            let mut cc: ffi::krb5_ccache = std::ptr::null_mut();
            let mut creds: ffi::krb5_creds = std::mem::zeroed();
            let mut have_creds = false;
            let result = (|| {
                let rc = ffi::krb5_parse_name(ctx, principal.as_ptr(), &mut p);
                if rc != 0 {
                    return Err(fail("principal", ctx, rc));
                }
                let rc = ffi::krb5_kt_resolve(ctx, keytab.as_ptr(), &mut kt);
                if rc != 0 {
                    return Err(fail("keytab", ctx, rc));
                }
                let rc = ffi::krb5_get_init_creds_keytab(
                    ctx,
                    &mut creds,
                    p,
                    kt,
                    0,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                );
                if rc != 0 {
                    return Err(fail("TGT from keytab", ctx, rc));
                }
                have_creds = true;
                let rc = ffi::krb5_cc_resolve(ctx, self.ccache.as_ptr(), &mut cc);
                if rc != 0 {
                    return Err(fail("ticket cache", ctx, rc));
                }
                let rc = ffi::krb5_cc_initialize(ctx, cc, p);
                if rc != 0 {
                    return Err(fail("ticket cache", ctx, rc));
                }
                let rc = ffi::krb5_cc_store_cred(ctx, cc, &mut creds);
                if rc != 0 {
                    return Err(fail("ticket cache", ctx, rc));
                }
                Ok(i64::from(creds.times.endtime))
            })();
            if have_creds {
                ffi::krb5_free_cred_contents(ctx, &mut creds);
            }
            if !cc.is_null() {
                ffi::krb5_cc_close(ctx, cc);
            }
            if !kt.is_null() {
                ffi::krb5_kt_close(ctx, kt);
            }
            if !p.is_null() {
                ffi::krb5_free_principal(ctx, p);
            }
            ffi::krb5_free_context(ctx);
            result
        }
    }

    /// Logs in now and again before each ticket expires; retries failures every few seconds.
    fn run(self: Arc<Self>) {
        loop {
            let wait = match self.login_once() {
                Ok(endtime) => {
                    self.set(Status::Ok { endtime });
                    let now = now_secs();
                    let left = (endtime - now).max(0) as u64;
                    Duration::from_secs((left * 4 / 5).max(5))
                }
                Err(e) => {
                    log::warn!("krafka: Kerberos login of {} failed: {e}", self.principal);
                    self.set(Status::Failed(e));
                    Duration::from_secs(5)
                }
            };
            std::thread::sleep(wait);
        }
    }
}

#[cfg(not(windows))]
fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(not(windows))]
fn bad_key(key: &str) -> KafkaError {
    KafkaError::Config {
        key: key.into(),
        reason: "must not contain NUL characters".into(),
    }
}

#[cfg(not(windows))]
type Registry = Mutex<HashMap<(String, String), Arc<Login>>>;

#[cfg(not(windows))]
fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The login for (principal, keytab), started on first use.
#[cfg(not(windows))]
pub fn login(principal: &str, keytab: &str) -> Result<Arc<Login>> {
    let mut reg = registry()
        .lock()
        .map_err(|_| KafkaError::Closed("kerberos registry".into()))?;
    if let Some(l) = reg.get(&(principal.to_string(), keytab.to_string())) {
        return Ok(l.clone());
    }
    let n = reg.len() + 1;
    let login = Arc::new(Login {
        principal: principal.into(),
        keytab: keytab.into(),
        ccache: CString::new(format!("MEMORY:krafka-{n}"))
            .map_err(|_| bad_key("sasl.kerberos.principal"))?,
        status: Mutex::new(Status::Pending),
        changed: Condvar::new(),
    });
    let runner = login.clone();
    std::thread::Builder::new()
        .name(format!("krafka-krb5-{n}"))
        .spawn(move || runner.run())
        .map_err(|e| KafkaError::Closed(format!("cannot start Kerberos login thread: {e}")))?;
    reg.insert((principal.into(), keytab.into()), login.clone());
    Ok(login)
}

#[cfg(not(windows))]
fn find_login(principal: &str, keytab: &str) -> Option<Arc<Login>> {
    registry()
        .lock()
        .ok()?
        .get(&(principal.to_string(), keytab.to_string()))
        .cloned()
}

/// Whether the config selects SASL/GSSAPI.
pub fn uses_gssapi(cc: &ClientConfig) -> bool {
    let mech = cc
        .get("sasl.mechanisms")
        .or_else(|| cc.get("sasl.mechanism"))
        .unwrap_or("GSSAPI");
    let proto = cc
        .get("security.protocol")
        .unwrap_or("plaintext")
        .to_ascii_lowercase();
    proto.starts_with("sasl") && mech.eq_ignore_ascii_case("GSSAPI")
}

/// Prepares a GSSAPI config: in-process keytab login and per-client identity.
#[cfg(not(windows))]
pub(crate) fn prepare(user: &Config, cc: &mut ClientConfig) -> Result<()> {
    if !uses_gssapi(cc) {
        return Ok(());
    }
    configure_realm(user)?;
    // librdkafka's keys are read from the built config, which includes those
    // translated from sasl.jaas.config; krafka's own (krafka.kerberos.*) from `user`.
    let built = cc.clone();
    let user_runs_kinit = built.get("sasl.kerberos.kinit.cmd").is_some()
        || built
            .get("sasl.kerberos.min.time.before.relogin")
            .is_some_and(|v| v != "0");
    if !user_runs_kinit {
        // No `kinit` subprocess: krb5 inside the addon logs in by itself.
        cc.set("sasl.kerberos.min.time.before.relogin", "0");
    }
    let Some(keytab) = built.get("sasl.kerberos.keytab") else {
        return Ok(());
    };
    if user_runs_kinit {
        return Ok(());
    }
    if let Err(e) = std::fs::File::open(keytab) {
        let code = e.raw_os_error().unwrap_or(code::ENOENT);
        return Err(explain(
            "keytab check",
            code,
            &format!("cannot read sasl.kerberos.keytab \"{keytab}\": {e}"),
            "",
            keytab,
        ));
    }
    let principal = built
        .get("sasl.kerberos.principal")
        .ok_or_else(|| KafkaError::Config {
            key: "sasl.kerberos.principal".into(),
            reason:
                "a keytab login needs the principal to log in as (e.g. svc-orders@CORP.EXAMPLE)"
                    .into(),
        })?;
    // librdkafka's copy too: the plugin finds this client's login by it (`attach`).
    let principal = qualified(principal, user);
    cc.set("sasl.kerberos.principal", &principal);
    let login = login(&principal, keytab)?;
    // Load the addon as a librdkafka plugin: its interceptors give every
    // thread of this client the login's cache (see `attach`).
    if !crate::plugin::load_self(cc) {
        // Not inside the addon (e.g. Rust unit tests): one process-wide cache.
        std::env::set_var("KRB5CCNAME", login.ccache());
    }
    Ok(())
}

/// With `krafka.kerberos.realm` and `krafka.kerberos.kdc`, a host needs no
/// krb5.conf: krafka writes a minimal one per realm and points krb5 at it
/// through `KRB5_CONFIG` (process-wide, as krb5 reads it there; see
/// [`point_krb5_at`]).
#[cfg(not(windows))]
fn configure_realm(user: &Config) -> Result<()> {
    let (realm, kdc) = (
        user.get("krafka.kerberos.realm"),
        user.get("krafka.kerberos.kdc"),
    );
    let (realm, kdcs) = match (realm, kdc) {
        (None, None) => return Ok(()),
        (Some(r), Some(k)) if !r.is_empty() && !k.is_empty() => (r, k),
        (None, _) | (Some(""), _) => {
            return Err(KafkaError::Config {
                key: "krafka.kerberos.realm".into(),
                reason: "give the realm together with krafka.kerberos.kdc".into(),
            })
        }
        _ => {
            return Err(KafkaError::Config {
                key: "krafka.kerberos.kdc".into(),
                reason: "give the KDC host[:port] list together with krafka.kerberos.realm".into(),
            })
        }
    };
    let bad = |s: &str| {
        s.chars()
            .any(|c| c.is_whitespace() || "{}[]=;#".contains(c))
    };
    if bad(realm) {
        return Err(KafkaError::Config {
            key: "krafka.kerberos.realm".into(),
            reason: format!("\"{realm}\" is not a realm name"),
        });
    }
    let mut kdc_lines = String::new();
    for k in kdcs.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if bad(k) {
            return Err(KafkaError::Config {
                key: "krafka.kerberos.kdc".into(),
                reason: format!("\"{k}\" is not a host[:port]"),
            });
        }
        kdc_lines.push_str(&format!("    kdc = {k}\n"));
    }
    let conf = format!(
        "# written by krafka from krafka.kerberos.realm / krafka.kerberos.kdc\n[libdefaults]\n  default_realm = {realm}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  dns_canonicalize_hostname = false\n  rdns = false\n  udp_preference_limit = 1\n[realms]\n  {realm} = {{\n{kdc_lines}  }}*\n"
    );
    let dir = std::env::temp_dir().join(format!("krafka-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| KafkaError::Closed(format!("cannot write krb5.conf: {e}")))?;
    let path = dir.join(format!("krb5-{realm}.conf"));
    std::fs::write(&path, conf)
        .map_err(|e| KafkaError::Closed(format!("cannot write krb5.conf: {e}")))?;
    point_krb5_at(path);
    Ok(())
}

/// The krb5.conf files krafka wrote, newest first.
#[cfg(not(windows))]
static REALM_FILES: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Puts `path` first in `KRB5_CONFIG`, a `:`-separated list that krb5 reads
/// whole: every realm configured before stays known to the clients that use
/// it, which make new krb5 contexts long after they were created (each
/// renewal of their login, each service ticket). Replacing the variable took
/// the first realm away from them (their next login failed). Files that are
/// not krafka's (a KRB5_CONFIG of the user's) stay, after krafka's: where
/// files disagree on a `[libdefaults]` value, the first one's counts, and
/// `default_realm` is the newest realm's (see [`qualified`]). A realm that
/// krafka configured is final in its file (`}*`): krb5 takes its KDCs from
/// there alone, not also from a user's file that names the same realm.
#[cfg(not(windows))]
fn point_krb5_at(path: std::path::PathBuf) {
    let mut ours = REALM_FILES.lock().unwrap_or_else(|e| e.into_inner());
    ours.retain(|p| p != &path);
    ours.insert(0, path);
    let mut list: Vec<String> = ours.iter().map(|p| p.display().to_string()).collect();
    // Whatever else the variable lists now (the user may have changed it since).
    if let Ok(current) = std::env::var("KRB5_CONFIG") {
        for other in current.split(':').filter(|f| !f.is_empty()) {
            if !list.iter().any(|f| f == other) {
                list.push(other.to_string());
            }
        }
    }
    std::env::set_var("KRB5_CONFIG", list.join(":"));
}

/// The principal to log in as: with `krafka.kerberos.realm`, one given
/// without `@REALM` is in that realm, not in whichever realm krb5's
/// `default_realm` names (the newest configured one, see [`point_krb5_at`]).
#[cfg(not(windows))]
fn qualified(principal: &str, user: &Config) -> String {
    match user.get("krafka.kerberos.realm") {
        Some(realm) if !realm.is_empty() && !principal.contains('@') => {
            format!("{principal}@{realm}")
        }
        _ => principal.to_string(),
    }
}

/// Reads a string property from a librdkafka conf.
///
/// # Safety
/// `conf` must be a valid conf pointer.
#[cfg(not(windows))]
unsafe fn conf_get(conf: *const rdkafka::bindings::rd_kafka_conf_t, name: &CStr) -> Option<String> {
    let mut buf = vec![0 as c_char; 4096];
    let mut size = buf.len();
    let res =
        rdkafka::bindings::rd_kafka_conf_get(conf, name.as_ptr(), buf.as_mut_ptr(), &mut size);
    (res == rdkafka::bindings::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK)
        .then(|| CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned())
}

/// The plugin's part for Kerberos, run by librdkafka as it creates a client
/// (see [`crate::plugin`]): a client with a keytab login gets the login's
/// cache in each of its threads.
///
/// # Safety
/// `rk` and `conf` must be the client and conf librdkafka's `on_new` passes.
#[cfg(not(windows))]
pub(crate) unsafe fn attach(
    rk: *mut rdkafka::bindings::rd_kafka_t,
    conf: *const rdkafka::bindings::rd_kafka_conf_t,
) {
    use rdkafka::bindings as rd;
    let (Some(principal), Some(keytab)) = (
        conf_get(conf, c"sasl.kerberos.principal"),
        conf_get(conf, c"sasl.kerberos.keytab"),
    ) else {
        return;
    };
    if let Some(login) = find_login(&principal, &keytab) {
        let opaque = Arc::into_raw(login) as *mut c_void;
        rd::rd_kafka_interceptor_add_on_thread_start(
            rk,
            c"krafka-kerberos".as_ptr(),
            Some(on_thread_start),
            opaque,
        );
        rd::rd_kafka_interceptor_add_on_destroy(
            rk,
            c"krafka-kerberos".as_ptr(),
            Some(on_destroy),
            opaque,
        );
    }
}

#[cfg(not(windows))]
unsafe extern "C" fn on_thread_start(
    _rk: *mut rdkafka::bindings::rd_kafka_t,
    thread_type: rdkafka::bindings::rd_kafka_thread_type_t,
    _thread_name: *const c_char,
    ic_opaque: *mut c_void,
) -> rdkafka::bindings::rd_kafka_resp_err_t {
    let login = &*(ic_opaque as *const Login);
    let mut minor = 0;
    ffi::gss_krb5_ccache_name(&mut minor, login.ccache.as_ptr(), std::ptr::null_mut());
    if thread_type == rdkafka::bindings::rd_kafka_thread_type_t::RD_KAFKA_THREAD_BROKER {
        // Let the first handshake find a ticket; failures surface as client errors.
        let _ = login.wait_ready(Duration::from_secs(10));
    }
    rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
}

#[cfg(not(windows))]
unsafe extern "C" fn on_destroy(
    _rk: *mut rdkafka::bindings::rd_kafka_t,
    ic_opaque: *mut c_void,
) -> rdkafka::bindings::rd_kafka_resp_err_t {
    drop(Arc::from_raw(ic_opaque as *const Login));
    rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
}

/// Who a GSSAPI client logs in as, for diagnosing its failures.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// `sasl.kerberos.principal`.
    pub principal: Option<String>,
    /// `sasl.kerberos.keytab`.
    pub keytab: Option<String>,
    /// `sasl.kerberos.service.name` (librdkafka's default is "kafka").
    pub service: String,
}

impl Identity {
    /// The Kerberos identity of a config, if it uses GSSAPI.
    pub fn of(cc: &ClientConfig) -> Option<Identity> {
        uses_gssapi(cc).then(|| Identity {
            principal: cc.get("sasl.kerberos.principal").map(str::to_string),
            keytab: cc.get("sasl.kerberos.keytab").map(str::to_string),
            service: cc
                .get("sasl.kerberos.service.name")
                .unwrap_or("kafka")
                .to_string(),
        })
    }
}

/// Turns a client's authentication failure into an actionable Kerberos
/// error: the in-process login's own diagnosis when it failed, otherwise the
/// cause read from the GSS-API (or, on Windows, SSPI) message librdkafka
/// passes on.
pub fn explain_auth_failure(id: &Identity, reason: &str) -> Option<KafkaError> {
    #[cfg(not(windows))]
    if let (Some(p), Some(k)) = (&id.principal, &id.keytab) {
        if let Some(e) = find_login(p, k).and_then(|l| l.last_error()) {
            return Some(e);
        }
    }
    let principal = id.principal.as_deref().unwrap_or("");
    let keytab = id.keytab.as_deref().unwrap_or("");
    let r = reason.to_ascii_lowercase();
    let service = format!("{}/<broker host>", id.service);
    // SSPI's messages (rdkafka_sasl_win32.c) differ from MIT's, and so do the fixes.
    let windows = cfg!(windows);
    let (cause, fix) = if (r.contains("server") && r.contains("not found in kerberos database"))
        || r.contains("target unknown")
    {
        ("SERVICE_UNKNOWN", format!("the KDC has no service principal {service}: check sasl.kerberos.service.name (\"{}\") and that bootstrap.servers uses the broker's canonical host name", id.service))
    } else if r.contains("no kerberos credentials")
        || r.contains("no credentials cache")
        || r.contains("credentials cache file")
        || r.contains("no credentials were supplied")
        || r.contains("matching credential not found")
        || (windows && r.contains("no credentials"))
        || r.contains("acquire credentialshandle")
    {
        (
            "NO_CREDENTIALS",
            if windows {
                "the Windows account this process runs as has no Kerberos credentials: run it as a domain account (klist lists its tickets); SSPI does not use keytabs".to_string()
            } else {
                "no Kerberos credentials: set sasl.kerberos.keytab and sasl.kerberos.principal, or run kinit (and set KRB5CCNAME) before starting".to_string()
            },
        )
    } else if r.contains("clock skew") {
        (
            "CLOCK_SKEW",
            "this host's clock differs from the KDC's too much: sync the clock (NTP)".to_string(),
        )
    } else if r.contains("expired") {
        (
            "EXPIRED",
            if windows {
                "the Windows account's Kerberos ticket has expired: klist purge, or log on again"
                    .to_string()
            } else {
                "the Kerberos ticket has expired: use a keytab (krafka renews it) or run kinit again"
                    .to_string()
            },
        )
    } else if r.contains("cannot contact any kdc") || r.contains("no authority could be contacted")
    {
        (
            "KDC_UNREACHABLE",
            if windows {
                "no domain controller (KDC) answered: check the network and that this host's domain is, or trusts, the broker principal's realm".to_string()
            } else {
                "no KDC answered: check krb5.conf's kdc entries and the network".to_string()
            },
        )
    } else if r.contains("cannot find kdc for realm") || r.contains("realm not local") {
        (
            "UNKNOWN_REALM",
            "krb5.conf has no entry for the realm: set KRB5_CONFIG or krafka.kerberos.realm/kdc"
                .to_string(),
        )
    } else if r.contains("gssapi") || r.contains("kerberos") || r.contains("sspi") {
        (
            "FAILED",
            if windows {
                "see the message; klist and the Windows System event log (Kerberos) show the account's tickets and failures".to_string()
            } else {
                "see the message; KRB5_TRACE=/dev/stderr traces every krb5 step".to_string()
            },
        )
    } else {
        return None;
    };
    let _ = (principal, keytab);
    Some(KafkaError::Kerberos {
        cause: cause.into(),
        step: "broker SASL/GSSAPI handshake".into(),
        message: reason.to_string(),
        fix,
    })
}

#[cfg(not(windows))]
#[allow(dead_code)]
const _: c_int = ffi::_UNUSED;

/// Replaces a client's authentication error with the Kerberos diagnosis when
/// there is one; other errors pass through unchanged.
pub fn refine(err: KafkaError, id: Option<&Identity>) -> KafkaError {
    let (Some(id), KafkaError::Kafka { code, message, .. }) = (id, &err) else {
        return err;
    };
    let auth = matches!(code, rdkafka::types::RDKafkaErrorCode::Authentication)
        || message.contains("SASL");
    if !auth {
        return err;
    }
    explain_auth_failure(id, message).unwrap_or(err)
}

/// Extra krb5 entry points used only by the doctor.
#[cfg(not(windows))]
#[allow(non_camel_case_types)]
mod doctor_ffi {
    use super::ffi::*;
    use std::ffi::{c_char, c_uint, c_void};

    #[repr(C)]
    pub struct krb5_keytab_entry {
        pub magic: i32,
        pub principal: krb5_principal,
        pub timestamp: i32,
        pub vno: c_uint,
        pub key: krb5_keyblock,
    }

    extern "C" {
        pub fn krb5_kt_start_seq_get(
            ctx: krb5_context,
            kt: krb5_keytab,
            cursor: *mut *mut c_void,
        ) -> krb5_error_code;
        pub fn krb5_kt_next_entry(
            ctx: krb5_context,
            kt: krb5_keytab,
            e: *mut krb5_keytab_entry,
            cursor: *mut *mut c_void,
        ) -> krb5_error_code;
        pub fn krb5_kt_end_seq_get(
            ctx: krb5_context,
            kt: krb5_keytab,
            cursor: *mut *mut c_void,
        ) -> krb5_error_code;
        pub fn krb5_free_keytab_entry_contents(
            ctx: krb5_context,
            e: *mut krb5_keytab_entry,
        ) -> krb5_error_code;
        pub fn krb5_unparse_name(
            ctx: krb5_context,
            p: krb5_principal,
            out: *mut *mut c_char,
        ) -> krb5_error_code;
        pub fn krb5_free_unparsed_name(ctx: krb5_context, s: *mut c_char);
        pub fn krb5_enctype_to_name(
            enctype: i32,
            shortest: c_uint,
            buf: *mut c_char,
            buflen: usize,
        ) -> krb5_error_code;
        pub fn krb5_get_credentials(
            ctx: krb5_context,
            options: i32,
            cc: krb5_ccache,
            in_creds: *mut krb5_creds,
            out: *mut *mut krb5_creds,
        ) -> krb5_error_code;
        pub fn krb5_free_creds(ctx: krb5_context, c: *mut krb5_creds);
        pub fn krb5_cc_get_principal(
            ctx: krb5_context,
            cc: krb5_ccache,
            p: *mut krb5_principal,
        ) -> krb5_error_code;
        pub fn krb5_cc_destroy(ctx: krb5_context, cc: krb5_ccache) -> krb5_error_code;
    }
}

/// One step of [`check`]: what was checked, whether it passed, and the fix.
#[derive(Debug, Clone)]
pub struct CheckStep {
    /// Short name, e.g. "KDC reachable".
    pub step: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do when it failed.
    pub fix: Option<String>,
    /// The `ERR__KRB5_*` code of a failure.
    pub code: Option<String>,
}

fn pass(step: &str, detail: String) -> CheckStep {
    CheckStep {
        step: step.into(),
        ok: true,
        detail,
        fix: None,
        code: None,
    }
}

fn failed(step: &str, e: KafkaError) -> CheckStep {
    let code = Some(e.code());
    match e {
        KafkaError::Kerberos { message, fix, .. } => CheckStep {
            step: step.into(),
            ok: false,
            detail: message,
            fix: Some(fix),
            code,
        },
        other => CheckStep {
            step: step.into(),
            ok: false,
            detail: other.to_string(),
            fix: None,
            code,
        },
    }
}

#[cfg(not(windows))]
fn krb_err(ctx: ffi::krb5_context, code: i32) -> String {
    // SAFETY: see Login::login_once.
    unsafe {
        let m = ffi::krb5_get_error_message(ctx, code);
        let s = CStr::from_ptr(m).to_string_lossy().into_owned();
        ffi::krb5_free_error_message(ctx, m);
        s
    }
}

/// The KDCs krb5.conf lists for `realm` (a small reader: `kdc = host[:port]` lines in the realm's block).
#[cfg(not(windows))]
fn kdcs_of(conf_text: &str, realm: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_realm = false;
    for line in conf_text.lines().map(str::trim) {
        if line.starts_with(&format!("{realm} ")) || line.starts_with(&format!("{realm}=")) {
            in_realm = line.contains('{');
        } else if in_realm && line.starts_with('}') {
            in_realm = false;
        } else if in_realm {
            if let Some(v) = line
                .strip_prefix("kdc")
                .map(str::trim)
                .and_then(|r| r.strip_prefix('='))
            {
                out.push(v.trim().to_string());
            }
        }
    }
    out
}

/// Walks the Kerberos chain for a GSSAPI config and reports every step:
/// krb5 config and realm, KDC reachable, keytab, TGT, service ticket, clock
/// skew, broker handshake. Blocking (network); call from a worker thread.
#[cfg(not(windows))]
pub fn check(user: &Config, broker_check: impl FnOnce(&Config) -> Result<()>) -> Vec<CheckStep> {
    let mut steps = Vec::new();
    let resolved = match user.resolved() {
        Ok(c) => c,
        Err(e) => {
            steps.push(failed("krb5 config and realm", e));
            return steps;
        }
    };
    let user = &resolved;
    if let Err(e) = configure_realm(user) {
        steps.push(failed("krb5 config and realm", e));
        return steps;
    }
    // In krafka.kerberos.realm when given without @REALM, as the login takes it.
    let principal = match user.get("sasl.kerberos.principal") {
        Some(p) if !p.is_empty() => qualified(p, user),
        _ => String::new(),
    };
    let keytab = user.get("sasl.kerberos.keytab").map(str::to_string);
    let realm = principal
        .rsplit_once('@')
        .map(|(_, r)| r.to_string())
        .unwrap_or_default();
    let service = user
        .get("sasl.kerberos.service.name")
        .unwrap_or("kafka")
        .to_string();
    let host = user
        .get("bootstrap.servers")
        .and_then(|b| b.split(',').next())
        .map(|b| {
            b.trim()
                .rsplit_once(':')
                .map_or(b.trim(), |(h, _)| h)
                .to_string()
        })
        .unwrap_or_default();

    // 1. krb5 config and realm.
    let conf_path = std::env::var("KRB5_CONFIG").unwrap_or_else(|_| "/etc/krb5.conf".into());
    // The first file that names the realm's KDCs: krafka's mark their realm
    // final (`}*`), so krb5 reads no other file's KDCs for it either.
    let kdcs = conf_path
        .split(':')
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| kdcs_of(&text, &realm))
        .find(|kdcs| !kdcs.is_empty())
        .unwrap_or_default();
    if realm.is_empty() {
        steps.push(failed(
            "krb5 config and realm",
            KafkaError::Kerberos {
                cause: "UNKNOWN_REALM".into(),
                step: "krb5 config".into(),
                message: "sasl.kerberos.principal has no @REALM".into(),
                fix: "give the full principal, e.g. svc-orders@CORP.EXAMPLE".into(),
            },
        ));
        return steps;
    }
    if kdcs.is_empty() {
        steps.push(failed(
            "krb5 config and realm",
            explain(
                "krb5 config",
                code::REALM_UNKNOWN,
                &format!("{conf_path} has no kdc for realm {realm}"),
                &principal,
                "",
            ),
        ));
        return steps;
    }
    steps.push(pass(
        "krb5 config and realm",
        format!("{conf_path}: realm {realm}, kdc {}", kdcs.join(", ")),
    ));

    // 2. KDC reachable (TCP).
    let reachable = kdcs.iter().find_map(|k| {
        let addr = if k.contains(':') {
            k.clone()
        } else {
            format!("{k}:88")
        };
        use std::net::ToSocketAddrs;
        let sa = addr.to_socket_addrs().ok()?.next()?;
        std::net::TcpStream::connect_timeout(&sa, Duration::from_secs(3))
            .ok()
            .map(|_| addr)
    });
    match reachable {
        Some(a) => steps.push(pass("KDC reachable", format!("{a} accepts connections"))),
        None => {
            steps.push(failed(
                "KDC reachable",
                explain(
                    "KDC contact",
                    code::KDC_UNREACH,
                    &format!("none of {} accepted a TCP connection", kdcs.join(", ")),
                    &principal,
                    "",
                ),
            ));
            return steps;
        }
    }

    // SAFETY: all krb5 objects below are created and freed within this function.
    unsafe {
        let mut ctx: ffi::krb5_context = std::ptr::null_mut();
        if ffi::krb5_init_context(&mut ctx) != 0 {
            return steps;
        }
        let cname =
            CString::new(format!("MEMORY:krafka-doctor-{}", now_secs())).unwrap_or_default();
        // 3. keytab.
        let have_creds = match &keytab {
            None => {
                steps.push(pass(
                    "keytab",
                    "no sasl.kerberos.keytab: the default ticket cache (kinit) is used".into(),
                ));
                false
            }
            Some(kt_path) => {
                let ktname = CString::new(format!("FILE:{kt_path}")).unwrap_or_default();
                let mut kt: ffi::krb5_keytab = std::ptr::null_mut();
                let mut entries = Vec::new();
                if std::fs::File::open(kt_path).is_err() {
                    steps.push(failed(
                        "keytab",
                        explain(
                            "keytab check",
                            code::ENOENT,
                            &format!("cannot read {kt_path}"),
                            &principal,
                            kt_path,
                        ),
                    ));
                    ffi::krb5_free_context(ctx);
                    return steps;
                }
                if ffi::krb5_kt_resolve(ctx, ktname.as_ptr(), &mut kt) == 0 {
                    let mut cursor: *mut c_void = std::ptr::null_mut();
                    if doctor_ffi::krb5_kt_start_seq_get(ctx, kt, &mut cursor) == 0 {
                        let mut e: doctor_ffi::krb5_keytab_entry = std::mem::zeroed();
                        while doctor_ffi::krb5_kt_next_entry(ctx, kt, &mut e, &mut cursor) == 0 {
                            let mut name: *mut c_char = std::ptr::null_mut();
                            doctor_ffi::krb5_unparse_name(ctx, e.principal, &mut name);
                            let mut buf = [0 as c_char; 64];
                            doctor_ffi::krb5_enctype_to_name(
                                e.key.enctype,
                                1,
                                buf.as_mut_ptr(),
                                buf.len(),
                            );
                            entries.push((
                                CStr::from_ptr(name).to_string_lossy().into_owned(),
                                e.vno,
                                CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned(),
                            ));
                            doctor_ffi::krb5_free_unparsed_name(ctx, name);
                            doctor_ffi::krb5_free_keytab_entry_contents(ctx, &mut e);
                        }
                        doctor_ffi::krb5_kt_end_seq_get(ctx, kt, &mut cursor);
                    }
                    ffi::krb5_kt_close(ctx, kt);
                }
                let mine: Vec<String> = entries
                    .iter()
                    .filter(|(p, _, _)| *p == principal)
                    .map(|(_, v, e)| format!("kvno {v} {e}"))
                    .collect();
                if mine.is_empty() {
                    let others: Vec<&str> = entries.iter().map(|(p, _, _)| p.as_str()).collect();
                    steps.push(failed(
                        "keytab",
                        explain(
                            "keytab check",
                            code::KT_NOTFOUND,
                            &format!("{kt_path} holds {others:?}, not {principal}"),
                            &principal,
                            kt_path,
                        ),
                    ));
                    ffi::krb5_free_context(ctx);
                    return steps;
                }
                steps.push(pass(
                    "keytab",
                    format!("{kt_path}: {principal}: {}", mine.join(", ")),
                ));
                // 4. TGT.
                let probe = Login {
                    principal: principal.clone(),
                    keytab: kt_path.clone(),
                    ccache: cname.clone(),
                    status: Mutex::new(Status::Pending),
                    changed: Condvar::new(),
                };
                match probe.login_once() {
                    Ok(end) => {
                        steps.push(pass(
                            "TGT obtained",
                            format!("valid for {} s", end - now_secs()),
                        ));
                        true
                    }
                    Err(e) => {
                        steps.push(failed("TGT obtained", e));
                        ffi::krb5_free_context(ctx);
                        return steps;
                    }
                }
            }
        };
        // 5. service ticket, and 6. clock skew (the KDC's authtime against ours).
        let mut cc: ffi::krb5_ccache = std::ptr::null_mut();
        let rc = if have_creds {
            ffi::krb5_cc_resolve(ctx, cname.as_ptr(), &mut cc)
        } else {
            krb5_cc_default(ctx, &mut cc)
        };
        if rc != 0 {
            steps.push(failed(
                "service ticket",
                explain("ticket cache", rc, &krb_err(ctx, rc), &principal, ""),
            ));
            ffi::krb5_free_context(ctx);
            return steps;
        }
        let sname = CString::new(format!("{service}/{host}@{realm}")).unwrap_or_default();
        let mut in_creds: ffi::krb5_creds = std::mem::zeroed();
        let mut out: *mut ffi::krb5_creds = std::ptr::null_mut();
        let mut rc = doctor_ffi::krb5_cc_get_principal(ctx, cc, &mut in_creds.client);
        if rc == 0 {
            rc = ffi::krb5_parse_name(ctx, sname.as_ptr(), &mut in_creds.server);
        }
        if rc == 0 {
            rc = doctor_ffi::krb5_get_credentials(ctx, 0, cc, &mut in_creds, &mut out);
        }
        let service_ok = rc == 0;
        if service_ok {
            let skew = i64::from((*out).times.authtime) - now_secs();
            steps.push(pass(
                "service ticket",
                format!("{} obtained", sname.to_string_lossy()),
            ));
            if skew.abs() > 300 {
                steps.push(failed(
                    "clock skew",
                    explain(
                        "clock check",
                        code::SKEW,
                        &format!("the KDC's clock is {skew} s off ours"),
                        &principal,
                        "",
                    ),
                ));
            } else {
                steps.push(pass(
                    "clock skew",
                    format!("{skew} s against the KDC (limit 300 s)"),
                ));
            }
            doctor_ffi::krb5_free_creds(ctx, out);
        } else {
            let msg = krb_err(ctx, rc);
            let e = if rc == code::S_PRINCIPAL_UNKNOWN {
                explain_auth_failure(
                    &Identity {
                        principal: None,
                        keytab: None,
                        service: service.clone(),
                    },
                    &format!(
                        "Server {} not found in Kerberos database",
                        sname.to_string_lossy()
                    ),
                )
                .unwrap_or_else(|| explain("service ticket", rc, &msg, &principal, ""))
            } else {
                explain("service ticket", rc, &msg, &principal, "")
            };
            steps.push(failed("service ticket", e));
        }
        if !in_creds.client.is_null() {
            ffi::krb5_free_principal(ctx, in_creds.client);
        }
        if !in_creds.server.is_null() {
            ffi::krb5_free_principal(ctx, in_creds.server);
        }
        if have_creds {
            doctor_ffi::krb5_cc_destroy(ctx, cc);
        } else {
            ffi::krb5_cc_close(ctx, cc);
        }
        ffi::krb5_free_context(ctx);
        if !service_ok {
            return steps;
        }
    }
    // 7. the broker's SASL handshake, with a real client.
    match broker_check(user) {
        Ok(()) => steps.push(pass(
            "broker SASL handshake",
            format!(
                "{} authenticated {principal}",
                user.get("bootstrap.servers").unwrap_or("")
            ),
        )),
        Err(e) => steps.push(failed("broker SASL handshake", e)),
    }
    steps
}

#[cfg(not(windows))]
extern "C" {
    fn krb5_cc_default(ctx: ffi::krb5_context, cc: *mut ffi::krb5_ccache) -> ffi::krb5_error_code;
}

/// [`check`] with the real broker handshake as its last step.
pub fn check_all(user: &Config) -> Vec<CheckStep> {
    check(user, |c| crate::admin::probe(c, Duration::from_secs(10)))
}

// ---- Windows (SSPI) ---------------------------------------------------------
//
// librdkafka's Windows build does GSSAPI through SSPI with the Kerberos
// credentials of the account the process runs as (AcquireCredentialsHandle
// with no principal; rdkafka_sasl_win32.c). There is no krb5 library, keytab,
// ticket cache or krb5.conf, so the login machinery above is not built; what
// stays is the config check, the doctor's broker handshake and the error
// explanations.

// librdkafka's SSPI provider calls secur32.dll (AcquireCredentialsHandleW,
// InitializeSecurityContextW, ...). rdkafka-sys's cmake-build links only
// librdkafka itself, not the libraries its CMake target names, so the addon
// names secur32 here or fails to link. (MSVC's linker takes libraries in any
// order; GNU ld would need it after librdkafka.)
#[cfg(windows)]
#[link(name = "secur32")]
extern "system" {}

/// Why keytab and krb5 settings are refused on Windows (rather than ignored).
#[cfg(windows)]
const SSPI_ONLY: &str = "not supported on Windows: SASL/GSSAPI uses SSPI with the Kerberos credentials of the Windows account this process runs as (log on, or run the service, as the principal to authenticate as)";

/// Rejects, by name, the settings that only the MIT krb5 path uses: a
/// keytab (also from `sasl.jaas.config`), kinit, and krafka's krb5.conf keys.
/// librdkafka itself refuses the `sasl.kerberos.kinit.cmd` / `keytab` /
/// `min.time.before.relogin` keys on Windows; this names the reason.
#[cfg(windows)]
fn reject_mit_keys(user: &Config) -> Result<()> {
    const KEYS: &[&str] = &[
        "sasl.kerberos.keytab",
        "sasl.kerberos.kinit.cmd",
        "sasl.kerberos.min.time.before.relogin",
        "krafka.kerberos.realm",
        "krafka.kerberos.kdc",
    ];
    if let Some(key) = KEYS.iter().find(|k| user.get(k).is_some()) {
        return Err(KafkaError::Config {
            key: (*key).into(),
            reason: SSPI_ONLY.into(),
        });
    }
    if user.resolved()?.get("sasl.kerberos.keytab").is_some() {
        return Err(KafkaError::Config {
            key: "sasl.jaas.config".into(),
            reason: format!("a Krb5LoginModule keyTab is {SSPI_ONLY}"),
        });
    }
    Ok(())
}

/// Windows: nothing to prepare (SSPI logs in by itself); refuses keytab and krb5 settings.
#[cfg(windows)]
pub(crate) fn prepare(user: &Config, _cc: &mut ClientConfig) -> Result<()> {
    reject_mit_keys(user)
}

/// Windows: reports what SSPI will use (account, realm, service principal),
/// refuses keytab and krb5 settings as a client would, then runs the broker
/// handshake, which is the real test. The krb5 steps of the Unix doctor
/// (krb5.conf, KDC, keytab, TGT, service ticket) have no SSPI counterpart here.
#[cfg(windows)]
pub fn check(user: &Config, broker_check: impl FnOnce(&Config) -> Result<()>) -> Vec<CheckStep> {
    let mut steps = Vec::new();
    if let Err(e) = reject_mit_keys(user) {
        steps.push(failed("Windows SSPI", e));
        return steps;
    }
    let user = match user.resolved() {
        Ok(c) => c,
        Err(e) => {
            steps.push(failed("Windows SSPI", e));
            return steps;
        }
    };
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let account = format!("{}\\{}", env("USERDOMAIN"), env("USERNAME"));
    let service = user.get("sasl.kerberos.service.name").unwrap_or("kafka");
    let mut detail = match std::env::var("USERDNSDOMAIN") {
        Ok(realm) => format!("GSSAPI through SSPI as {account}, realm {realm}"),
        Err(_) => format!(
            "GSSAPI through SSPI as {account}; USERDNSDOMAIN is not set, so this may not be a domain account with Kerberos tickets"
        ),
    };
    detail.push_str(&format!("; service principal {service}/<broker host>"));
    if let Some(p) = user.get("sasl.kerberos.principal") {
        detail.push_str(&format!(
            "; sasl.kerberos.principal \"{p}\" is not used by SSPI"
        ));
    }
    steps.push(pass("Windows SSPI", detail));
    match broker_check(&user) {
        Ok(()) => steps.push(pass(
            "broker SASL handshake",
            format!(
                "{} authenticated {account}",
                user.get("bootstrap.servers").unwrap_or("")
            ),
        )),
        Err(e) => steps.push(failed("broker SASL handshake", e)),
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SSPI's failure messages (rdkafka_sasl_win32.c) map to the same causes as MIT's.
    #[test]
    fn sspi_messages_are_explained() {
        let id = Identity {
            service: "kafka".into(),
            ..Identity::default()
        };
        let code = |m: &str| explain_auth_failure(&id, m).map(|e| e.code());
        for (message, want) in [
            (
                "SASL authentication error: InitializeSecurityContext failed: Target unknown (0x80090303)",
                "ERR__KRB5_SERVICE_UNKNOWN",
            ),
            (
                "Failed to initialize SASL authentication: Failed to acquire CredentialsHandle: error code -2146893042",
                "ERR__KRB5_NO_CREDENTIALS",
            ),
            (
                "SASL authentication error: InitializeSecurityContext failed: No authority could be contacted for authentication. (0x80090311)",
                "ERR__KRB5_KDC_UNREACHABLE",
            ),
        ] {
            assert_eq!(code(message).as_deref(), Some(want), "{message}");
        }
    }

    /// Each realm krafka writes a krb5.conf for stays in KRB5_CONFIG, the
    /// newest first, with the user's own files after krafka's.
    #[cfg(not(windows))]
    #[test]
    fn every_configured_realm_stays_in_krb5_config() {
        let realm = |r: &str| {
            Config::new([
                ("krafka.kerberos.realm", r),
                ("krafka.kerberos.kdc", "127.0.0.1:9"),
            ])
        };
        std::env::set_var("KRB5_CONFIG", "/etc/users-own.conf");
        configure_realm(&realm("ONE.TEST")).unwrap();
        configure_realm(&realm("TWO.TEST")).unwrap();
        configure_realm(&realm("ONE.TEST")).unwrap(); // again: to the front, once
        let list = std::env::var("KRB5_CONFIG").unwrap();
        std::env::remove_var("KRB5_CONFIG");
        let files: Vec<&str> = list.split(':').collect();
        let names: Vec<&str> = files
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            names,
            ["krb5-ONE.TEST.conf", "krb5-TWO.TEST.conf", "users-own.conf"],
            "{list}"
        );
        let one = std::fs::read_to_string(files[0]).unwrap();
        assert!(
            one.contains("ONE.TEST = {") && one.contains("kdc = 127.0.0.1:9"),
            "{one}"
        );
        assert!(
            one.contains("  }*"),
            "the realm is final in its file: {one}"
        );
        assert_eq!(qualified("svc", &realm("ONE.TEST")), "svc@ONE.TEST");
        assert_eq!(qualified("svc@X.TEST", &realm("ONE.TEST")), "svc@X.TEST");
        assert_eq!(qualified("svc", &Config::new([("a", "b")])), "svc");
    }

    /// Windows: keytab and krb5 settings fail by name instead of being ignored.
    #[cfg(windows)]
    #[test]
    fn windows_refuses_keytab_settings() {
        let base = [
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanisms", "GSSAPI"),
        ];
        for key in [
            "sasl.kerberos.keytab",
            "sasl.kerberos.kinit.cmd",
            "krafka.kerberos.realm",
            "krafka.kerberos.kdc",
        ] {
            let cfg = Config::new(base.iter().copied().chain([(key, "x")]));
            let e = cfg.build(crate::ClientKind::Producer).unwrap_err();
            assert_eq!(e.code(), "ERR__INVALID_ARG");
            assert!(
                e.to_string().contains(key) && e.to_string().contains("SSPI"),
                "{e}"
            );
        }
        let jaas = r#"com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="C:\k.keytab" principal="a@R";"#;
        let e = Config::new([("sasl.jaas.config", jaas)])
            .build(crate::ClientKind::Producer)
            .unwrap_err();
        assert!(e.to_string().contains("sasl.jaas.config"), "{e}");
        let steps = check(
            &Config::new(base.iter().copied().chain([("sasl.kerberos.keytab", "x")])),
            |_| Ok(()),
        );
        assert!(!steps[0].ok && steps[0].code.as_deref() == Some("ERR__INVALID_ARG"));
        let steps = check(&Config::new(base), |_| Ok(()));
        assert!(steps.iter().all(|s| s.ok), "{steps:?}");
    }
}
