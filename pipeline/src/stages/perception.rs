//! PERCEPTION: odometry and scans in, the latest [`WorldState`] out through a slot.

use std::sync::Arc;

use super::{record_opt, IDLE_REST};
use bora_agent::{LaserScan, Odometry, Perception, WorldState};
use bora_rt::clock::Clock;
use bora_rt::metrics::{Metrics, Quantity, Recorder};
use bora_rt::queue::MpmcQueue;
use bora_rt::slot::SlotWriter;
use bora_rt::stage::StageContext;
use bora_rt::wake::Wake;

/// The perception stage: drains the sensor queues into [`Perception`] and publishes
/// the world it sees.
pub(crate) struct PerceptionStage {
    perception: Perception,
    odom: Arc<MpmcQueue<Odometry>>,
    scan: Arc<MpmcQueue<LaserScan>>,
    /// Rung by the input side after each message.
    wake: Wake,
    world: SlotWriter<WorldState>,
    clock: Arc<dyn Clock>,
    odom_transit: Recorder,
    scan_transit: Recorder,
    step_time: Recorder,
}

impl PerceptionStage {
    /// A stage reading `odom` and `scan` into `world`, recording into `metrics`.
    pub fn new(
        perception: Perception,
        (odom, scan): (Arc<MpmcQueue<Odometry>>, Arc<MpmcQueue<LaserScan>>),
        wake: Wake,
        world: SlotWriter<WorldState>,
        clock: Arc<dyn Clock>,
        metrics: &mut Metrics,
    ) -> crate::Result<Self> {
        Ok(Self {
            perception,
            odom,
            scan,
            wake,
            world,
            clock,
            odom_transit: metrics.recorder(Quantity::QueueTransit, "odom")?,
            scan_transit: metrics.recorder(Quantity::QueueTransit, "scan")?,
            step_time: metrics.recorder(Quantity::StageStep, "perception")?,
        })
    }

    /// Takes every queued message; writes the world when one changed it. Returns
    /// whether anything arrived.
    pub fn step(&mut self, span: &tracing::Span) -> bool {
        let begin = self.clock.now();
        let mut changed = false;
        while let Some((o, t)) = self.odom.pop_with_transit() {
            let _e = span.enter();
            record_opt(&mut self.odom_transit, t);
            self.perception.update_odom(&o);
            changed = true;
        }
        while let Some((s, t)) = self.scan.pop_with_transit() {
            let _e = span.enter();
            record_opt(&mut self.scan_transit, t);
            self.perception.update_scan(&s);
            changed = true;
        }
        if changed {
            self.world.write(self.perception.world());
            self.step_time
                .record(self.clock.now().saturating_sub(begin));
        }
        self.step_time.publish();
        self.odom_transit.publish();
        self.scan_transit.publish();
        changed
    }

    /// The stage thread's body: step until shutdown, resting on the wake (at most
    /// [`IDLE_REST`]) when idle.
    pub fn run(mut self, ctx: &StageContext) {
        let span = ctx.step_span();
        while !ctx.should_stop() {
            ctx.beat();
            if !self.step(&span) {
                self.wake.wait_timeout(IDLE_REST);
            }
        }
    }
}
