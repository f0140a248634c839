//! The two load shapes: a closed loop (throughput) and an open loop at a constant arrival rate
//! (latency and read-your-writes lag, measured from the scheduled send time as wrk2 does).
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::{Api, User};
use crate::stats::Latencies;

/// Sends still waiting this long after the end of the schedule are given up (counted as
/// not sent), so that an overloaded server does not stretch the run without bound.
const GRACE: Duration = Duration::from_secs(5);

pub struct ClosedResult {
    pub clients: usize,
    pub commands: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    pub first_error: Option<String>,
}

impl ClosedResult {
    pub fn per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }
}

/// `clients` loops, each sending `PATCH /core/me` for its own users back to back; requests
/// sent during `warmup` are not counted.
pub async fn closed_loop(
    api: &Api,
    users: &[User],
    clients: usize,
    warmup: Duration,
    duration: Duration,
) -> ClosedResult {
    let api = api.clone();
    closed(users, clients, warmup, duration, move |user, n| {
        let api = api.clone();
        async move {
            match api.patch_me(&user, n).await {
                Ok(w) if w.status.is_success() => Ok(()),
                Ok(w) => Err(w.status.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await
}

/// `clients` loops, each sending `GET path` as its users back to back; requests sent during
/// `warmup` are not counted.
pub async fn read_loop(
    api: &Api,
    users: &[User],
    path: &str,
    clients: usize,
    warmup: Duration,
    duration: Duration,
) -> ClosedResult {
    let (api, path) = (api.clone(), path.to_string());
    closed(users, clients, warmup, duration, move |user, _| {
        let (api, path) = (api.clone(), path.clone());
        async move {
            match api.get(&user, &path).await {
                Ok(status) if status.is_success() => Ok(()),
                Ok(status) => Err(status.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await
}

/// The closed loop: `clients` tasks, each calling `request(user, n)` with its own users back
/// to back until the end (with fewer users than clients, clients share users); the latencies
/// of the successes sent after the warm-up are recorded.
pub(crate) async fn closed<F, Fut>(
    users: &[User],
    clients: usize,
    warmup: Duration,
    duration: Duration,
    request: F,
) -> ClosedResult
where
    F: Fn(User, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let measure_from = Instant::now() + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let mut mine: Vec<User> = users
            .iter()
            .skip(c % users.len())
            .step_by(clients)
            .cloned()
            .collect();
        if mine.is_empty() {
            mine.push(users[c % users.len()].clone());
        }
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut first_error) = (Latencies::default(), 0u64, None);
            for k in 0u64.. {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let user = mine[k as usize % mine.len()].clone();
                let result = request(user, (c as u64) << 32 | k).await;
                if sent < measure_from {
                    continue;
                }
                match result {
                    Ok(()) => latencies.record(sent.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut result = ClosedResult {
        clients,
        commands: 0,
        errors: 0,
        elapsed: duration,
        latencies: Latencies::default(),
        first_error: None,
    };
    for task in tasks {
        let (latencies, errors, first_error) = task.await.expect("client task");
        result.latencies.add(&latencies);
        result.errors += errors;
        result.first_error = result.first_error.or(first_error);
    }
    result.commands = result.latencies.len();
    result
}

#[derive(Default)]
pub struct OpenResult {
    pub rate: f64,
    pub scheduled: u64,
    /// Sends given up: still waiting for a free slot `GRACE` after the schedule ended.
    pub not_sent: u64,
    /// Commands in flight at most (wrk2's connections).
    pub max_in_flight: usize,
    /// Commands answered 2xx with a position.
    pub commands: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Command latency from its scheduled send time.
    pub command: Latencies,
    /// PATCH answered → GET with its position answered.
    pub lag: Latencies,
    /// GETs with the position answered `x-annals-consistency: stale`, or not 2xx.
    pub stale: u64,
    pub read_errors: u64,
    pub baseline_rate: f64,
    /// `GET /core/me` with `X-Annals-Position: 0.0`: a read that never waits.
    pub no_wait: Latencies,
    /// `GET /core/me` without the header: waits for the head of the log at arrival.
    pub default_read: Latencies,
    pub baseline_stale: u64,
    /// From the first scheduled send to the last command answer.
    pub span: Duration,
}

impl OpenResult {
    pub fn achieved(&self) -> f64 {
        self.commands as f64 / self.span.as_secs_f64().max(1e-9)
    }
}

/// Sends `PATCH /core/me` at `rate` per second for `duration`, at most `max_in_flight` at a
/// time, each followed at once by `GET /core/me` carrying the returned position (the GETs do
/// not count against `max_in_flight`); meanwhile two baseline read series run at
/// `baseline_rate` each.
pub async fn open_loop(
    api: &Api,
    users: &[User],
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    baseline_rate: f64,
) -> OpenResult {
    let out = Arc::new(Mutex::new(OpenResult {
        rate,
        max_in_flight,
        baseline_rate,
        ..Default::default()
    }));
    let users: Arc<[User]> = users.into();
    let start = Instant::now();

    let writes = paced(rate, duration, max_in_flight, |i, scheduled, slot| {
        let (api, users, out) = (api.clone(), users.clone(), out.clone());
        async move {
            let user = &users[i as usize % users.len()];
            let written = api.patch_me(user, (1 << 62) | i).await;
            let answered = Instant::now();
            drop(slot);
            let position = match written {
                Ok(w) if w.status.is_success() && w.position.is_some() => w.position.unwrap(),
                other => {
                    let mut out = out.lock().unwrap();
                    out.errors += 1;
                    let why = match other {
                        Ok(w) => format!("{} (position {:?})", w.status, w.position),
                        Err(e) => e.to_string(),
                    };
                    out.first_error.get_or_insert(why);
                    return;
                }
            };
            let read = api.get_me(user, Some(&position)).await;
            let visible = Instant::now();
            let mut out = out.lock().unwrap();
            out.commands += 1;
            out.command.record(answered - scheduled);
            out.span = out.span.max(answered - start);
            match read {
                Ok(r) if r.status.is_success() => {
                    out.lag.record(visible - answered);
                    out.stale += u64::from(r.stale);
                }
                _ => out.read_errors += 1,
            }
        }
    });
    let baseline = |position: Option<&'static str>| {
        let (users, out) = (&users, &out);
        paced(
            baseline_rate,
            duration,
            max_in_flight,
            move |i, scheduled, _slot| {
                let (api, users, out) = (api.clone(), users.clone(), out.clone());
                async move {
                    let user = &users[(i as usize * 7) % users.len()];
                    let read = api.get_me(user, position).await;
                    let latency = scheduled.elapsed();
                    let mut out = out.lock().unwrap();
                    let series = match position {
                        Some(_) => &mut out.no_wait,
                        None => &mut out.default_read,
                    };
                    match read {
                        Ok(r) if r.status.is_success() => {
                            series.record(latency);
                            out.baseline_stale += u64::from(r.stale);
                        }
                        _ => out.read_errors += 1,
                    }
                }
            },
        )
    };
    let ((scheduled, not_sent), _, _) = tokio::join!(writes, baseline(Some("0.0")), baseline(None));
    let mut out = Arc::into_inner(out)
        .expect("all tasks done")
        .into_inner()
        .unwrap();
    (out.scheduled, out.not_sent) = (scheduled, not_sent);
    out
}

/// Starts `job(i, scheduled_at, slot)` at `rate` per second for `duration` without waiting for
/// earlier jobs, as long as one of `max_in_flight` slots is free (a job frees its slot by
/// dropping it). Then waits for all jobs; returns how many were scheduled and how many of
/// those were given up unsent.
async fn paced<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    mut job: F,
) -> (u64, u64)
where
    F: FnMut(u64, Instant, OwnedSemaphorePermit) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let start = Instant::now();
    let total = (duration.as_secs_f64() * rate).ceil().max(0.0) as u64;
    let give_up = start + duration + GRACE;
    let mut jobs = Vec::with_capacity(total as usize);
    while (jobs.len() as u64) < total {
        let i = jobs.len() as u64;
        let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(scheduled.into()).await;
        let slot = tokio::time::timeout_at(give_up.into(), slots.clone().acquire_owned()).await;
        let Ok(Ok(slot)) = slot else { break };
        jobs.push(tokio::spawn(job(i, scheduled, slot)));
    }
    let sent = jobs.len() as u64;
    for done in jobs {
        done.await.expect("job panicked");
    }
    (total, total - sent)
}
