//! librdkafka's threads yield the CPU to the application's.
//!
//! A Node app runs all of its own code on one thread, the event loop, while
//! librdkafka does its I/O and batching on threads of its own. When both want
//! the same core (a busy host, a small container), the kernel shares it
//! evenly, so the event loop waits behind librdkafka and every timer and
//! callback in the app runs late. With `krafka.thread.nice` (default
//! [`DEFAULT`]), librdkafka's threads run that many nice steps below the
//! thread that creates the client: the kernel runs the event loop first when
//! both are ready. librdkafka still gets every idle cycle, and at 4 steps
//! about 30 % of a core it has to share with the loop. `0` leaves the threads
//! as they are.
//!
//! Measured on the benchmark's 2 cores (shared with the broker), in ABBA
//! blocks with a fresh topic per run: `produce()`'s event-loop p99 went
//! from a median of 5.9 to 4.8 ms; `sendBatch()`'s did not move (5.9 and
//! 5.8 ms); the native ceiling's producing thread got faster. At 10 steps
//! `send()` (one promise per record) got slower: acks came later, so more
//! promises stayed alive through each young-generation GC. Hence 4.
//!
//! krafka's own threads stay at nice 0: renicing the producer's delivery
//! thread or the consumer's poll (tokio's blocking pool) by 4 made the event
//! loop wait longer for a CPU and made both slower (four pairs each, stop 23).
//! The loop waits on what those threads hand it (reports, batches).
//!
//! Linux only: `setpriority` on a thread id renices that thread alone there
//! (elsewhere it would renice the whole process), so other systems keep the
//! threads as they are.
use std::cell::Cell;

use crate::config::Config;
use crate::error::{KafkaError, Result};

/// The config key.
pub const KEY: &str = "krafka.thread.nice";
/// Steps below the creating thread when the key is not set.
pub const DEFAULT: i32 = 4;

thread_local! {
    /// The steps for the client this thread is creating (see [`creating`]).
    static CREATING: Cell<i32> = const { Cell::new(0) };
}

/// The configured steps, checked: an integer from 0 to 19.
pub(crate) fn steps(user: &Config) -> Result<i32> {
    let Some(v) = user.get(KEY) else {
        return Ok(DEFAULT);
    };
    match v.trim().parse::<i32>() {
        Ok(n) if (0..=19).contains(&n) => Ok(n),
        _ => Err(KafkaError::Config {
            key: KEY.into(),
            reason: format!(
                "\"{v}\" is not a nice step count: give an integer from 0 (leave librdkafka's threads as they are) to 19"
            ),
        }),
    }
}

/// Whether a client with this config needs the plugin for its threads.
pub(crate) fn wanted(user: &Config) -> Result<bool> {
    Ok(cfg!(target_os = "linux") && steps(user)? > 0)
}

/// Runs `create` (which creates one librdkafka client on this thread) with
/// the config's steps handed to the plugin's `on_new` (see [`attach`]).
pub(crate) fn creating<T>(user: &Config, create: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CREATING.with(|c| c.set(0));
        }
    }
    let _reset = Reset;
    CREATING.with(|c| c.set(steps(user).unwrap_or(0)));
    create()
}

/// The plugin's part for priorities, run by librdkafka's `on_new` on the
/// creating thread: each of the client's threads will start at the creating
/// thread's nice plus the steps (at most 19).
///
/// # Safety
/// `rk` must be the client librdkafka's `on_new` passes.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn attach(rk: *mut rdkafka::bindings::rd_kafka_t) {
    let steps = CREATING.with(|c| c.get());
    if steps <= 0 {
        return;
    }
    // getpriority(PRIO_PROCESS, 0) is this thread's nice on Linux. Threads
    // inherit their creator's, so librdkafka's later threads must not add
    // the steps again: each one is set to the same absolute level.
    *libc::__errno_location() = 0;
    let base = libc::getpriority(libc::PRIO_PROCESS, 0);
    if base == -1 && *libc::__errno_location() != 0 {
        return;
    }
    let level = (base + steps).min(19) as isize;
    rdkafka::bindings::rd_kafka_interceptor_add_on_thread_start(
        rk,
        c"krafka-priority".as_ptr(),
        Some(on_thread_start),
        level as *mut std::ffi::c_void,
    );
}

/// Not Linux: threads are left as they are.
#[cfg(all(not(windows), not(target_os = "linux")))]
pub(crate) unsafe fn attach(_rk: *mut rdkafka::bindings::rd_kafka_t) {}

#[cfg(target_os = "linux")]
unsafe extern "C" fn on_thread_start(
    _rk: *mut rdkafka::bindings::rd_kafka_t,
    _thread_type: rdkafka::bindings::rd_kafka_thread_type_t,
    _thread_name: *const std::ffi::c_char,
    ic_opaque: *mut std::ffi::c_void,
) -> rdkafka::bindings::rd_kafka_resp_err_t {
    let level = ic_opaque as isize as libc::c_int;
    // Raising one's own nice needs no privilege; a failure only leaves the
    // thread as it was, so it is not worth failing the client for.
    // The raw syscall: glibc's gettid() wrapper is newer (2.30) than the
    // prebuilt addon's glibc floor.
    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
    libc::setpriority(libc::PRIO_PROCESS, tid, level);
    rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_default_and_checked() {
        let cfg = |v: Option<&str>| Config::new(v.map(|v| (KEY, v)));
        assert_eq!(steps(&cfg(None)).unwrap(), DEFAULT);
        assert_eq!(steps(&cfg(Some("0"))).unwrap(), 0);
        assert_eq!(steps(&cfg(Some(" 19 "))).unwrap(), 19);
        for bad in ["20", "-1", "high", ""] {
            match steps(&cfg(Some(bad))) {
                Err(KafkaError::Config { key, reason }) => {
                    assert_eq!(key, KEY);
                    assert!(reason.contains(&format!("\"{bad}\"")), "{reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
