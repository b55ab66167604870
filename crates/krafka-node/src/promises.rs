//! Promises the addon makes and settles, for send() past 20,000 in flight
//! (lib/promises.js, lib/producer.js's JS_PROMISES).
//!
//! A promise made by `napi_create_promise` has no resolve function on the JS
//! heap: about 46 bytes for V8's young-generation GC to copy while its record
//! is in flight, against about 160 for a `new Promise` kept with its resolve
//! (bench/promise-bytes.js). Made a pool at a time and settled a delivery
//! batch at a time: one native call each way per batch, not per record.

use std::cell::RefCell;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

thread_local! {
    /// The deferreds of this thread's unsettled promises, by number (a
    /// worker's promises live on its own thread, with its own env).
    static DEFERREDS: RefCell<Deferreds> = RefCell::new(Deferreds::default());
}

/// Deferreds by number; a settled promise's number is reused.
#[derive(Default)]
struct Deferreds {
    slots: Vec<sys::napi_deferred>,
    free: Vec<u32>,
}

impl Deferreds {
    fn insert(&mut self, deferred: sys::napi_deferred) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.slots[k as usize] = deferred;
                k
            }
            None => {
                self.slots.push(deferred);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Takes number `k`'s deferred out (null when unknown or already settled).
    fn remove(&mut self, k: u32) -> sys::napi_deferred {
        match self.slots.get_mut(k as usize) {
            Some(slot) if !slot.is_null() => {
                self.free.push(k);
                std::mem::replace(slot, std::ptr::null_mut())
            }
            _ => std::ptr::null_mut(),
        }
    }
}

/// Fills `promises[i]` with a new pending promise and `numbers[i]` with its
/// number, for every i of `numbers`.
#[napi]
pub fn make_promises(env: Env, promises: Array, mut numbers: Uint32ArraySlice) -> Result<()> {
    let (raw_env, arr) = (env.raw(), promises.value().value);
    // SAFETY: a typed array of the caller's, written synchronously on the JS thread.
    let numbers = unsafe { numbers.as_mut() };
    DEFERREDS.with(|d| {
        let mut d = d.borrow_mut();
        for (i, number) in numbers.iter_mut().enumerate() {
            let mut deferred = std::ptr::null_mut();
            let mut promise = std::ptr::null_mut();
            // SAFETY: valid env and out-pointers; called on the JS thread.
            check_status!(unsafe {
                sys::napi_create_promise(raw_env, &mut deferred, &mut promise)
            })?;
            *number = d.insert(deferred);
            // SAFETY: `arr` is the caller's array, `promise` a live handle of this call.
            check_status!(unsafe { sys::napi_set_element(raw_env, arr, i as u32, promise) })?;
        }
        Ok(())
    })
}

/// Settles promises `numbers[0..n]` with `values[0..n]`, in order: rejects
/// promise i when `rejects[i]` is not 0, else resolves it. Unknown or settled
/// numbers are skipped.
#[napi]
pub fn settle_promises(
    env: Env,
    numbers: Uint32ArraySlice,
    values: Array,
    n: u32,
    rejects: Uint8ArraySlice,
) -> Result<()> {
    let (raw_env, arr) = (env.raw(), values.value().value);
    let n = n as usize;
    if numbers.len() < n || rejects.len() < n {
        return Err(Error::new(
            Status::InvalidArg,
            "settlePromises: numbers and rejects need n entries".to_string(),
        ));
    }
    DEFERREDS.with(|d| {
        let mut d = d.borrow_mut();
        for (i, (&k, &reject)) in numbers.iter().zip(rejects.iter()).take(n).enumerate() {
            let deferred = d.remove(k);
            if deferred.is_null() {
                continue;
            }
            let mut v = std::ptr::null_mut();
            // SAFETY: `arr` is the caller's array; `deferred` came from
            // napi_create_promise on this thread and is settled only here, once.
            check_status!(unsafe { sys::napi_get_element(raw_env, arr, i as u32, &mut v) })?;
            check_status!(unsafe {
                if reject != 0 {
                    sys::napi_reject_deferred(raw_env, deferred, v)
                } else {
                    sys::napi_resolve_deferred(raw_env, deferred, v)
                }
            })?;
        }
        Ok(())
    })
}
