//! Where the CPU went: user + system time of every process on the box (Linux /proc), taken
//! before and after a phase and grouped by program name.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The programs shown in their own column; everything else is "other".
pub const GROUPS: [&str; 4] = ["annals", "postgres", "nats-server", "annals-bench"];
/// The same in embedded mode: the server and SQLite are one process (SQLite is a library, so
/// the raw SQLite reference runs inside annals-bench).
pub const EMBEDDED_GROUPS: [&str; 2] = ["annals", "annals-bench"];

pub struct Snapshot {
    at: Instant,
    /// Program name and CPU seconds so far, per pid (names change on exec, and kernel workers
    /// rename themselves, so the pid is the key).
    seconds: BTreeMap<u32, (String, f64)>,
}

/// Cores kept busy per program over a phase (1.0 = one core all the time). Processes that
/// ended during the phase are missing.
#[derive(Clone, Default)]
pub struct Usage {
    cores: BTreeMap<String, f64>,
}

impl Usage {
    /// Cores used by the processes named `group`.
    pub fn get(&self, group: &str) -> f64 {
        self.cores.get(group).copied().unwrap_or(0.0)
    }

    /// Cores used by everything outside `groups`.
    pub fn other(&self, groups: &[&str]) -> f64 {
        self.total() - groups.iter().map(|g| self.get(g)).sum::<f64>()
    }

    pub fn total(&self) -> f64 {
        self.cores.values().sum()
    }

    /// The busiest program outside `groups`.
    pub fn top_other(&self, groups: &[&str]) -> Option<(&str, f64)> {
        self.cores
            .iter()
            .filter(|(name, _)| !groups.contains(&name.as_str()))
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
        seconds.insert(pid, (stat[open + 1..close].to_string(), ticks / hz));
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
        for (pid, (name, after)) in &later.seconds {
            let before = self.seconds.get(pid).map_or(0.0, |(_, s)| *s);
            *cores.entry(name.clone()).or_default() += (after - before).max(0.0) / wall;
        }
        Usage { cores }
    }
}
