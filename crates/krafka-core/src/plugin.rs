//! The addon as a librdkafka plugin: krafka's hooks into librdkafka's threads.
//!
//! rdkafka offers no hook for the threads librdkafka starts, but librdkafka's
//! interceptors do. When a config's `plugin.library.paths` names the addon
//! itself, librdkafka calls the addon's `conf_init` (exported by the
//! bindings, which forward to [`plugin_conf_init`]). That registers an
//! `on_new` interceptor, and each client being created then gets:
//! - its Kerberos login's ticket cache in every thread ([`crate::kerberos`]);
//! - librdkafka's threads below the application's ([`crate::priority`]).
//!
//! Outside an addon (Rust unit tests, a plain binary) there is no shared
//! object to load, and [`load_self`] says so.
use std::ffi::{c_char, c_void};

use rdkafka::config::ClientConfig;

/// librdkafka's conf handle, as the plugin entry point receives it.
pub type RdConf = rdkafka::bindings::rd_kafka_conf_t;
/// librdkafka's error code type, as the plugin entry point returns it.
pub type RdErr = rdkafka::bindings::rd_kafka_resp_err_t;

/// Adds the addon to the config's `plugin.library.paths` (once, after any
/// plugins of the user's). Returns false when this code is not inside a
/// shared object that exports `conf_init`.
#[cfg(not(windows))]
pub(crate) fn load_self(cc: &mut ClientConfig) -> bool {
    let Some(me) = self_path() else {
        return false;
    };
    let paths = match cc.get("plugin.library.paths") {
        Some(p) if p.split(';').any(|x| x == me) => return true,
        Some(p) if !p.is_empty() => format!("{p};{me}"),
        _ => me,
    };
    cc.set("plugin.library.paths", paths);
    true
}

/// Windows: krafka never loads itself as a plugin (SSPI needs no per-client
/// cache, and thread priorities are left alone).
#[cfg(windows)]
pub(crate) fn load_self(_cc: &mut ClientConfig) -> bool {
    false
}

/// The path of the shared object this code lives in, when it exports the plugin entry point.
#[cfg(not(windows))]
fn self_path() -> Option<String> {
    use std::ffi::CStr;
    use std::sync::OnceLock;
    static PATH: OnceLock<Option<String>> = OnceLock::new();
    PATH.get_or_init(|| {
        // SAFETY: dladdr only reads loader data for an address inside this object.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            if libc::dladdr(self_path as *const c_void, &mut info) == 0 || info.dli_fname.is_null()
            {
                return None;
            }
            let path = CStr::from_ptr(info.dli_fname)
                .to_string_lossy()
                .into_owned();
            let handle = libc::dlopen(info.dli_fname, libc::RTLD_LAZY | libc::RTLD_NOLOAD);
            if handle.is_null() {
                return None;
            }
            let has_entry = !libc::dlsym(handle, c"conf_init".as_ptr()).is_null();
            libc::dlclose(handle);
            has_entry.then_some(path)
        }
    })
    .clone()
}

/// librdkafka plugin entry point (`conf_init`), exported by the addon.
///
/// # Safety
/// Called by librdkafka with a valid conf.
pub unsafe fn plugin_conf_init(
    conf: *mut RdConf,
    _plug_opaque: *mut *mut c_void,
    _errstr: *mut c_char,
    _errstr_size: usize,
) -> RdErr {
    #[cfg(not(windows))]
    return rdkafka::bindings::rd_kafka_conf_interceptor_add_on_new(
        conf,
        c"krafka".as_ptr(),
        Some(on_new),
        std::ptr::null_mut(),
    );
    #[cfg(windows)]
    {
        let _ = conf;
        RdErr::RD_KAFKA_RESP_ERR_NO_ERROR
    }
}

/// Runs on the thread creating a client, before librdkafka starts its threads.
#[cfg(not(windows))]
unsafe extern "C" fn on_new(
    rk: *mut rdkafka::bindings::rd_kafka_t,
    conf: *const RdConf,
    _ic_opaque: *mut c_void,
    _errstr: *mut c_char,
    _errstr_size: usize,
) -> RdErr {
    crate::kerberos::attach(rk, conf);
    crate::priority::attach(rk);
    RdErr::RD_KAFKA_RESP_ERR_NO_ERROR
}
