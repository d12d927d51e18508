//! Progress of the long phases (model load, warm-up, the run) on stderr: a line
//! rewritten in place on a terminal, plain lines otherwise (CI logs, pipes).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Reports phases and, within a timed phase, seconds done out of the total.
pub struct Progress {
    tty: bool,
    quiet: bool,
    phase: String,
    started: Instant,
    last_plain: Instant,
}

impl Progress {
    /// Progress on stderr; `quiet` prints nothing.
    pub fn new(quiet: bool) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            quiet,
            phase: String::new(),
            started: Instant::now(),
            last_plain: Instant::now(),
        }
    }

    /// Starts a phase (ends the previous one's line).
    pub fn phase(&mut self, name: &str) {
        if self.quiet {
            return;
        }
        self.finish_line();
        self.phase = name.to_owned();
        self.started = Instant::now();
        self.last_plain = Instant::now();
        if self.tty {
            eprint!("profile: {name}...");
        } else {
            eprintln!("profile: {name}");
        }
        let _ = std::io::stderr().flush();
    }

    /// Within a timed phase: `done` of `total`. Plain output prints at most every 10 s.
    pub fn tick(&mut self, done: Duration, total: Duration) {
        if self.quiet {
            return;
        }
        let (d, t) = (done.as_secs_f64(), total.as_secs_f64().max(1e-9));
        if self.tty {
            let width = 30usize;
            let filled = ((d / t).clamp(0.0, 1.0) * width as f64) as usize;
            eprint!(
                "\r\x1b[2Kprofile: {} [{}{}] {:.0}/{:.0} s",
                self.phase,
                "#".repeat(filled),
                " ".repeat(width - filled),
                d,
                t
            );
            let _ = std::io::stderr().flush();
        } else if self.last_plain.elapsed() >= Duration::from_secs(10) {
            self.last_plain = Instant::now();
            eprintln!("profile: {} {:.0}/{:.0} s", self.phase, d, t);
        }
    }

    /// Ends the current phase's line with its elapsed time.
    pub fn finish_line(&mut self) {
        if self.quiet || self.phase.is_empty() {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64();
        if self.tty {
            eprintln!("\r\x1b[2Kprofile: {} done in {:.1} s", self.phase, secs);
        } else {
            eprintln!("profile: {} done in {:.1} s", self.phase, secs);
        }
        self.phase.clear();
    }
}
