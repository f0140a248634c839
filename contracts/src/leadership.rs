//! One active instance per role across processes (the projection workers, the relay): the
//! others stand by and take over when the leader's lease ends.
use async_trait::async_trait;

use crate::LogError;

/// Grants leases on roles.
#[async_trait]
pub trait Leadership: Send + Sync {
    /// Becomes the one active instance of `role`, or `None` while another process is.
    async fn try_lead(&self, role: &str) -> Result<Option<Box<dyn Lease>>, LogError>;
}

/// A held role. Dropping it (or the process dying) gives the role up.
#[async_trait]
pub trait Lease: Send {
    /// Whether the role is still ours (e.g. the connection holding the lock is alive).
    async fn still_held(&mut self) -> bool;
}

/// Leadership where one process is all there is (the embedded mode): always granted.
pub struct SoleProcess;

struct Always;

#[async_trait]
impl Lease for Always {
    async fn still_held(&mut self) -> bool {
        true
    }
}

#[async_trait]
impl Leadership for SoleProcess {
    async fn try_lead(&self, _role: &str) -> Result<Option<Box<dyn Lease>>, LogError> {
        Ok(Some(Box::new(Always)))
    }
}
