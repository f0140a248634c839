//! Black-box tests: the real app on port 0 against real Postgres and NATS JetStream.
mod helpers;

mod accounts;
mod api_keys;
mod appends;
mod buckets;
mod buckets_client;
mod buckets_concurrency;
mod cli;
mod clients;
mod consistency;
mod contract;
mod faults;
mod fuzzed;
mod history;
mod identity;
mod kitsu;
mod kitsu_data;
mod operations;
mod poison;
mod routing;
mod spine;
mod surfaces;
mod versions;
mod views;
mod workspaces;
