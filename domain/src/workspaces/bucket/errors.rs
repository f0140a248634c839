/// Why a bucket command was refused. The messages are the ones Keymetrics clients know.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BucketError {
    /// The bucket does not exist, was deleted, or the caller is not a member: all three look
    /// the same from outside, so that a bucket's existence is never revealed.
    #[error("bucket not found")]
    NotFound,
    #[error("bucket already exists")]
    AlreadyExists,
    /// The caller's role does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The member (or would-be owner) named by email is not a member.
    #[error("user not found")]
    UserNotFound,
    #[error("invitation not found")]
    InvitationNotFound,
    #[error("server not found")]
    ServerNotFound,
    #[error("payment method not found")]
    PaymentMethodNotFound,
    #[error("you cant invit more users because you hit the bucket limit")]
    MemberLimitReached,
    #[error("you might have hit the limit of agents you can connect")]
    ServerLimitReached,
    /// A payment method is needed (for a paid plan, or to own a paid bucket).
    #[error("{0}")]
    PaymentRequired(&'static str),
    /// The plan cannot be taken (too many members or servers for it).
    #[error("{0}")]
    PlanNotAllowed(&'static str),
    #[error("can't claim trial")]
    TrialNotAllowed,
    /// The agent's secret does not match the bucket's.
    #[error("invalid public or secret id")]
    BadSecret,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}
