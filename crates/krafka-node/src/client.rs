//! [`Shared`]: how a napi class holds its core client.
//!
//! The last reference to a librdkafka client destroys it, and that joins
//! librdkafka's threads, which can take a poll interval (~100 ms). V8 runs
//! finalizers on the JS thread, so a producer or consumer that was closed and
//! then garbage-collected held the event loop for that long. `Shared` hands
//! its reference to a short-lived thread instead.
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::Arc;

/// An `Arc` to a core client whose own release happens off the JS thread.
pub struct Shared<T: Send + Sync + 'static>(ManuallyDrop<Arc<T>>);

impl<T: Send + Sync + 'static> Shared<T> {
    pub fn new(client: T) -> Self {
        Shared(ManuallyDrop::new(Arc::new(client)))
    }

    /// Another reference, for a worker thread.
    pub fn arc(&self) -> Arc<T> {
        Arc::clone(&self.0)
    }
}

impl<T: Send + Sync + 'static> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> Drop for Shared<T> {
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is not used after.
        let client = unsafe { ManuallyDrop::take(&mut self.0) };
        let spawned = std::thread::Builder::new()
            .name("krafka-release".into())
            .spawn(move || drop(client));
        // No thread to be had: the client came back inside the error and is
        // released here, which is slower but never leaks.
        drop(spawned);
    }
}
