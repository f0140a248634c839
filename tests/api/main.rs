//! Black-box tests: the real app on port 0 against real Postgres and NATS JetStream.
mod helpers;

mod accounts;
mod consistency;
mod operations;
mod spine;
