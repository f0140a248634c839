//! The event-sourcing core: commands run on aggregates and append their events
//! ([`commands`]), the state a process remembers per stream ([`state_cache`]), and the relay
//! that publishes the log in its global order ([`relay`]), appends spanning many streams
//! ([`together`]), and states that carry their read
//! model's document ([`viewed`]).
pub mod commands;
pub mod relay;
mod state_cache;
pub mod together;
pub mod viewed;
