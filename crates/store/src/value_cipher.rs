//! The cipher the service installs to seal values at rest (`ValueCipher`), and the `Sealer`
//! every clone of a store shares: without a cipher values pass as they are.

use std::sync::{Arc, OnceLock};

use crate::{Result, StoreError};

/// Seals and opens stored values.
pub trait ValueCipher: Send + Sync {
    fn seal(&self, plain: &str) -> String;
    /// `None` when `stored` is not a sealed value.
    fn open(&self, stored: &str) -> Option<std::result::Result<String, String>>;
}

/// The installed cipher, shared by the clones of a store; without one values pass as they are.
#[derive(Clone, Default)]
pub(crate) struct Sealer(Arc<OnceLock<Arc<dyn ValueCipher>>>);

impl Sealer {
    /// The first cipher installed stays.
    pub(crate) fn install(&self, cipher: Arc<dyn ValueCipher>) {
        let _ = self.0.set(cipher);
    }

    pub(crate) fn seal(&self, plain: &str) -> String {
        self.0.get().map_or_else(|| plain.to_owned(), |cipher| cipher.seal(plain))
    }

    pub(crate) fn open(&self, stored: String) -> Result<String> {
        match self.0.get().and_then(|cipher| cipher.open(&stored)) {
            None => Ok(stored),
            Some(opened) => opened.map_err(StoreError::Sealed),
        }
    }

    pub(crate) fn is_plain(&self, stored: &str) -> bool {
        self.0.get().is_some_and(|cipher| cipher.open(stored).is_none())
    }
}
