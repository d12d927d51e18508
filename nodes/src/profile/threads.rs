//! CPU time per thread of this process, from /proc/self/task/*/stat (Linux). Threads
//! are grouped by name with trailing digits and separators removed, so a compute pool's
//! `rayon-3`, `rayon-4`... add up to one `rayon` row.

use std::collections::BTreeMap;
use std::time::Duration;

use super::report::ThreadCpu;

/// CPU time (user + system) per thread group at one instant.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    by_group: BTreeMap<String, Duration>,
}

impl CpuSnapshot {
    /// Reads every live thread of this process (empty where /proc is absent).
    pub fn take() -> Self {
        let mut by_group = BTreeMap::new();
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
        let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
            return Self { by_group };
        };
        for entry in dir.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            if let Some((name, cpu_ticks)) = parse_stat(&stat) {
                let t = Duration::from_secs_f64(cpu_ticks as f64 / ticks);
                *by_group.entry(group(&name)).or_default() += t;
            }
        }
        Self { by_group }
    }

    /// CPU used per group between `earlier` and `self` over `wall`; groups that used
    /// none are left out. Threads that ended in between lose their time (stat is gone).
    pub fn since(&self, earlier: &CpuSnapshot, wall: Duration) -> Vec<ThreadCpu> {
        let wall = wall.as_secs_f64().max(1e-9);
        let mut rows: Vec<ThreadCpu> = self
            .by_group
            .iter()
            .filter_map(|(name, now)| {
                let before = earlier.by_group.get(name).copied().unwrap_or_default();
                let used = now.saturating_sub(before).as_secs_f64();
                (used > 0.0).then(|| ThreadCpu {
                    name: name.clone(),
                    cpu_s: used,
                    cpu_percent: used / wall * 100.0,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.cpu_s.total_cmp(&a.cpu_s));
        rows
    }
}

/// (comm, utime + stime in clock ticks) from one `stat` line. The name is inside the
/// outermost parentheses and may itself contain spaces or parentheses.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    // After ") ": state is field 3; utime and stime are fields 14 and 15.
    let mut rest = stat.get(close + 2..)?.split_whitespace();
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((name, utime + stime))
}

fn group(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    if trimmed.is_empty() {
        name.to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_gives_name_and_cpu_ticks() {
        let line = "1234 (lang (x) 2) S 1 2 3 4 5 6 7 8 9 10 70 30 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(("lang (x) 2".into(), 100)));
    }

    #[test]
    fn pool_threads_group_under_one_name() {
        assert_eq!(group("rayon-12"), "rayon");
        assert_eq!(group("planning"), "planning");
        assert_eq!(group("1234"), "1234");
    }

    #[test]
    fn a_busy_thread_shows_cpu_time() {
        let before = CpuSnapshot::take();
        let start = std::time::Instant::now();
        std::thread::Builder::new()
            .name("profile-spin".into())
            .spawn(|| {
                let t = std::time::Instant::now();
                let mut x = 0u64;
                while t.elapsed() < Duration::from_millis(300) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                // Sample while the thread is still alive.
                CpuSnapshot::take()
            })
            .unwrap()
            .join()
            .map(|after| {
                let rows = after.since(&before, start.elapsed());
                if cfg!(target_os = "linux") {
                    let spin = rows.iter().find(|r| r.name == "profile-spin").unwrap();
                    assert!(spin.cpu_s > 0.05, "{spin:?}");
                }
            })
            .unwrap();
    }
}
