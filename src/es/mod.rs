//! The event-sourcing core: commands run on aggregates and append their events
//! ([`commands`]), the state a process remembers per stream ([`state_cache`]), and the relay
//! that publishes the log in its global order ([`relay`]) and seals it ([`sealer`]), appends
//! spanning many streams ([`together`]), and states that carry their read
//! model's document ([`viewed`]).
pub mod commands;
pub mod relay;
pub mod sealer;
mod state_cache;
pub mod together;
pub mod viewed;
