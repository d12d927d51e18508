//! Probes the machine a profile runs on: CPU, cores, memory, GPUs, and whether the OS
//! gives real-time guarantees (SCHED_FIFO allowed, CPU frequency governor fixed).
//! Linux sources (/proc, /sys, nvidia-smi); anything missing reads as unknown, never an
//! error.

use std::collections::BTreeSet;
use std::path::Path;

use super::report::Machine;

/// Probes everything but the bandwidth (measured by the model bench; passed in, GB/s).
pub fn probe(memory_bandwidth_gb_s: f64) -> Machine {
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let (sched_fifo, sched_fifo_error) = match try_sched_fifo() {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e)),
    };
    let cpu_governors = governors();
    let governor_fixed = if cpu_governors.is_empty() {
        None
    } else {
        Some(cpu_governors.iter().all(|g| g == "performance"))
    };
    Machine {
        cpu_model: cpu_model(&cpuinfo),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        physical_cores: physical_cores(),
        memory_bytes: mem_total(),
        memory_bandwidth_gb_s,
        gpus: gpus(),
        os: os(),
        sched_fifo,
        sched_fifo_error,
        cpu_governors,
        governor_fixed,
    }
}

/// The CPU's model name (/proc/cpuinfo or the device tree), or "unknown": stated with
/// every speed figure.
pub fn cpu_name() -> String {
    cpu_model(&read("/proc/cpuinfo").unwrap_or_default())
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpu_model(cpuinfo: &str) -> String {
    // x86: "model name"; many ARM kernels: "Hardware" or only the device-tree model.
    for key in ["model name", "Hardware", "Processor"] {
        let found = cpuinfo.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key && !v.trim().is_empty()).then(|| v.trim().to_owned())
        });
        if let Some(v) = found {
            return v;
        }
    }
    read("/proc/device-tree/model")
        .map(|s| s.trim_end_matches('\0').trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn physical_cores() -> Option<usize> {
    let mut cores = BTreeSet::new();
    for entry in std::fs::read_dir("/sys/devices/system/cpu").ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("cpu") || !name[3..].chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let topo = entry.path().join("topology");
        let package = read(topo.join("physical_package_id"))?;
        let core = read(topo.join("core_id"))?;
        cores.insert((package.trim().to_owned(), core.trim().to_owned()));
    }
    (!cores.is_empty()).then_some(cores.len())
}

fn mem_total() -> Option<u64> {
    let meminfo = read("/proc/meminfo")?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn gpus() -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(out) = std::process::Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total,compute_cap",
            "--format=csv,noheader",
        ])
        .output()
    {
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            found.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    if found.is_empty() {
        // Jetson: no nvidia-smi; the integrated GPU shows in the device tree.
        if let Some(model) = read("/proc/device-tree/model") {
            let model = model.trim_end_matches('\0').trim();
            if model.contains("Jetson") || Path::new("/etc/nv_tegra_release").exists() {
                found.push(format!("{model} (integrated GPU)"));
            }
        }
    }
    found
}

fn os() -> String {
    let kind = read("/proc/sys/kernel/ostype").unwrap_or_else(|| std::env::consts::OS.into());
    let release = read("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rt = read("/sys/kernel/realtime").is_some_and(|s| s.trim() == "1");
    format!(
        "{} {}{}",
        kind.trim(),
        release.trim(),
        if rt { " (PREEMPT_RT)" } else { "" }
    )
}

fn governors() -> Vec<String> {
    let mut set = BTreeSet::new();
    if let Ok(dir) = std::fs::read_dir("/sys/devices/system/cpu") {
        for entry in dir.flatten() {
            if let Some(g) = read(entry.path().join("cpufreq/scaling_governor")) {
                set.insert(g.trim().to_owned());
            }
        }
    }
    set.into_iter().collect()
}

/// Tries SCHED_FIFO priority 1 on a throwaway thread, so no thread of the run changes.
fn try_sched_fifo() -> Result<(), String> {
    std::thread::spawn(|| {
        let param = libc::sched_param { sched_priority: 1 };
        // SAFETY: pthread_self() is this live thread; `param` is a valid sched_param
        // that outlives the call.
        let rc =
            unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::from_raw_os_error(rc).to_string())
        }
    })
    .join()
    .unwrap_or_else(|_| Err("probe thread panicked".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_reads_x86_and_arm_keys() {
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: Ryzen 9\n"),
            "Ryzen 9"
        );
        assert_eq!(
            cpu_model("Processor\t: ARMv8\nHardware\t: tegra\n"),
            "tegra"
        );
    }

    #[test]
    fn probe_reports_cores_and_memory_here() {
        let m = probe(1.0);
        assert!(m.logical_cores >= 1);
        if cfg!(target_os = "linux") {
            assert!(m.memory_bytes.is_some_and(|b| b > 1 << 20));
            assert!(m.os.starts_with("Linux"), "{}", m.os);
        }
        // Either it worked or it says why.
        assert_eq!(m.sched_fifo, m.sched_fifo_error.is_none());
    }
}
