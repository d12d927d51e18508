//! The profile report as a readable table (what `bora profile` prints on stdout).

use std::fmt::Write;

use super::report::ProfileReport;

/// Renders the whole report.
pub fn render(r: &ProfileReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "bora profile ({}, bora {})", r.schema, r.bora_version);
    machine(&mut s, r);
    model(&mut s, r);
    workload(&mut s, r);
    latencies(&mut s, r);
    budget_and_queues(&mut s, r);
    counters_threads_rss(&mut s, r);
    s
}

/// Appends the machine section: cpu, cores, memory, gpu, os, scheduling and governor.
fn machine(s: &mut String, r: &ProfileReport) {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let m = &r.machine;
    let _ = writeln!(s, "\nmachine");
    let _ = writeln!(s, "  cpu             {}", m.cpu_model);
    let _ = writeln!(
        s,
        "  cores           {} logical, {} physical",
        m.logical_cores,
        m.physical_cores
            .map_or("unknown".to_owned(), |n| n.to_string())
    );
    let _ = writeln!(
        s,
        "  memory          {} , read bandwidth {:.1} GB/s (measured)",
        m.memory_bytes
            .map_or("unknown".to_owned(), |b| format!("{:.1} GiB", gib(b))),
        m.memory_bandwidth_gb_s
    );
    let gpus = if m.gpus.is_empty() {
        "none".to_owned()
    } else {
        m.gpus.join("; ")
    };
    let _ = writeln!(s, "  gpu             {gpus}");
    let _ = writeln!(s, "  os              {}", m.os);
    let _ = writeln!(
        s,
        "  SCHED_FIFO      {}",
        match &m.sched_fifo_error {
            None => "allowed".to_owned(),
            Some(e) => format!("refused ({e})"),
        }
    );
    let _ = writeln!(
        s,
        "  cpu governor    {}",
        match m.governor_fixed {
            None => "no cpufreq (fixed by firmware or virtualised)".to_owned(),
            Some(true) => format!("{} (fixed)", m.cpu_governors.join(", ")),
            Some(false) => format!(
                "{} (NOT fixed: frequency varies)",
                m.cpu_governors.join(", ")
            ),
        }
    );
}

/// Appends the model section: load time, time to first token, prefill and decode rates.
fn model(s: &mut String, r: &ProfileReport) {
    let w = &r.workload;
    let md = &r.model;
    let _ = writeln!(
        s,
        "\nmodel {} on {} ({}, {:.1} MiB)",
        w.model_name,
        w.device,
        md.architecture,
        md.file_bytes as f64 / 1048576.0
    );
    let _ = writeln!(
        s,
        "  load            {:.0} ms (+ prompt prefix {:.0} ms)",
        md.load_ms, md.prefix_ms
    );
    let _ = writeln!(
        s,
        "  TTFT            cold {:.1} ms, cached prefix {:.1} ms",
        md.ttft_cold_ms, md.ttft_cached_ms
    );
    let _ = writeln!(s, "  prefill         {:.1} tok/s", md.prefill_tok_s);
    let _ = writeln!(
        s,
        "  decode          {:.1} tok/s ({:.0}% of measured bandwidth)",
        md.decode_tok_s,
        md.decode_bandwidth_fraction * 100.0
    );
}

/// Appends the workload section: duration, command rate, stress and command counts.
fn workload(s: &mut String, r: &ProfileReport) {
    let w = &r.workload;
    let _ = writeln!(
        s,
        "\nworkload  in-process pipeline + simulated robot, {:.1} s, a command every {:.1} s, {} stress threads",
        w.duration_s, w.command_period_s, w.stress_threads
    );
    let _ = writeln!(
        s,
        "  commands        {} sent, {} queued, {} rejected; {} plan reports",
        w.commands_sent, w.commands_queued, w.commands_rejected, w.plan_reports
    );
}

/// Appends the latency table (milliseconds: p50, p90, p99, max per measured span).
fn latencies(s: &mut String, r: &ProfileReport) {
    let _ = writeln!(
        s,
        "\nlatency (ms)                    count      p50      p90      p99      max"
    );
    for l in &r.latencies {
        let _ = writeln!(
            s,
            "  {:<28} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            l.name, l.count, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
        );
    }
}

/// Appends the budget summary and the queue table.
fn budget_and_queues(s: &mut String, r: &ProfileReport) {
    let b = &r.budget;
    let _ = writeln!(
        s,
        "\nbudget  {} checks: {} met, misses first_token {} / token_gap {} / total {}, {} preempted, {} fallback plans",
        b.checks, b.met, b.missed_first_token, b.missed_token_gap, b.missed_total, b.preempted, b.fallback_plans
    );
    let _ = writeln!(
        s,
        "\nqueues                 capacity   pushes    drops  rejects"
    );
    for q in &r.queues {
        let _ = writeln!(
            s,
            "  {:<20} {:>8} {:>8} {:>8} {:>8}",
            q.name, q.capacity, q.pushes, q.drops, q.rejects
        );
    }
}

/// Appends the counters, the per-thread cpu table (seconds and % of a core) and peak RSS.
fn counters_threads_rss(s: &mut String, r: &ProfileReport) {
    let counters: Vec<String> = r
        .counters
        .iter()
        .map(|c| format!("{} {}", c.name, c.value))
        .collect();
    let _ = writeln!(s, "\ncounters  {}", counters.join(", "));
    let _ = writeln!(s, "\ncpu per thread (during the run)   cpu s   % of a core");
    for t in &r.threads {
        let _ = writeln!(
            s,
            "  {:<30} {:>7.2} {:>8.1}",
            t.name, t.cpu_s, t.cpu_percent
        );
    }
    let _ = writeln!(
        s,
        "\npeak RSS  {}",
        r.peak_rss_bytes
            .map_or("not reported by this OS".to_owned(), |b| format!(
                "{:.1} MiB",
                b as f64 / 1048576.0
            ))
    );
}
