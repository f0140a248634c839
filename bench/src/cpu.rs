//! Where the CPU went: user + system time of every process on the box (Linux /proc), taken
//! before and after a phase and grouped by program name.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The programs shown in their own column; everything else is "other".
pub const GROUPS: [&str; 4] = ["annals", "postgres", "nats-server", "annals-bench"];

pub struct Snapshot {
    at: Instant,
    /// CPU seconds so far per (pid, program name).
    seconds: BTreeMap<(u32, String), f64>,
}

/// Cores kept busy per program over a phase (1.0 = one core all the time). Processes that
/// ended during the phase are missing.
#[derive(Clone, Default)]
pub struct Usage {
    cores: BTreeMap<String, f64>,
}

impl Usage {
    /// One of `GROUPS`, or "other".
    pub fn get(&self, group: &str) -> f64 {
        match group {
            "other" => self.total() - GROUPS.iter().map(|g| self.get(g)).sum::<f64>(),
            _ => self.cores.get(group).copied().unwrap_or(0.0),
        }
    }

    pub fn total(&self) -> f64 {
        self.cores.values().sum()
    }

    /// The busiest program outside `GROUPS`.
    pub fn top_other(&self) -> Option<(&str, f64)> {
        self.cores
            .iter()
            .filter(|(name, _)| !GROUPS.contains(&name.as_str()))
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(name, cores)| (name.as_str(), *cores))
    }
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn snapshot() -> Snapshot {
    let hz = ticks_per_second();
    let mut seconds = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // utime and stime, fields 14 and 15 of proc_pid_stat(5).
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        seconds.insert((pid, stat[open + 1..close].to_string()), ticks / hz);
    }
    Snapshot {
        at: Instant::now(),
        seconds,
    }
}

impl Snapshot {
    pub fn until(&self, later: &Snapshot) -> Usage {
        let wall = later
            .at
            .duration_since(self.at)
            .max(Duration::from_millis(1))
            .as_secs_f64();
        let mut cores = BTreeMap::<String, f64>::new();
        for (key, after) in &later.seconds {
            let before = self.seconds.get(key).copied().unwrap_or(0.0);
            *cores.entry(key.1.clone()).or_default() += (after - before).max(0.0) / wall;
        }
        Usage { cores }
    }
}
