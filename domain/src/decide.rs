//! The one way every aggregate here handles a command: decide the events on the current state
//! (pure, so rules test without a sink), then write them to the sink, which applies each.
//!
//! cqrs-es wants [`Aggregate::handle`] implemented per type, and the orphan rule forbids a
//! blanket `impl<T: Decide> Aggregate for T`, so each `handle` calls [`handle`] instead.
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;

/// The rules of an aggregate: which events a command records, given the state, or why not.
pub(crate) trait Decide: Aggregate {
    /// Decides on `self` as it is before the command: no event of the same command is applied
    /// yet, so a rule that needs a later state computes it itself.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
}

/// [`Aggregate::handle`] for any [`Decide`]: an error records nothing; otherwise the events are
/// written in order.
pub(crate) async fn handle<A: Decide>(
    aggregate: &mut A,
    command: A::Command,
    sink: &EventSink<A>,
) -> Result<(), A::Error> {
    for event in aggregate.decide(command)? {
        sink.write(event, aggregate).await;
    }
    Ok(())
}
