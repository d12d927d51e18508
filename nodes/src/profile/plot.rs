//! `bora profile --plot OUT.svg`: one panel per latency, its tail as an inverse CDF
//! (p50, p90, p99, p99.9, max from the HDR histogram) on a log time axis, so a long
//! tail reads as a steep rise at the right.

use std::path::Path;

use anyhow::anyhow;
use plotters::prelude::*;

use super::report::ProfileReport;

const PERCENTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];
const COLUMNS: usize = 3;
const PANEL: (u32, u32) = (420, 260);

/// Writes the SVG to `path`.
pub fn write(report: &ProfileReport, path: &Path) -> anyhow::Result<()> {
    let lat: Vec<_> = report.latencies.iter().filter(|l| l.count > 0).collect();
    let rows = lat.len().div_ceil(COLUMNS).max(1);
    let size = (
        PANEL.0 * COLUMNS as u32,
        PANEL.1 * u32::try_from(rows).unwrap_or(1) + 40,
    );
    let err = |e: &dyn std::fmt::Display| anyhow!("cannot draw the plot {}: {e}", path.display());
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let title = format!(
        "bora profile: {} on {} ({}), latency tails in ms",
        report.workload.model_name, report.workload.device, report.machine.cpu_model
    );
    let (header, body) = root.split_vertically(40);
    header
        .draw(&Text::new(title, (10, 12), ("sans-serif", 18).into_font()))
        .map_err(|e| err(&e))?;
    let panels = body.split_evenly((rows, COLUMNS));
    for (area, l) in panels.iter().zip(&lat) {
        let ys = [l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms].map(|v| v.max(1e-4));
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min) * 0.7;
        let hi = ys.iter().copied().fold(0.0, f64::max) * 1.4;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{} (n={})", l.name, l.count),
                ("sans-serif", 14).into_font(),
            )
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.3f64..4.3f64, (lo..hi).log_scale())
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.05 && (0.0..=4.0).contains(&i) {
                    PERCENTILES[i as usize].to_owned()
                } else {
                    String::new()
                }
            })
            .y_labels(4)
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()
            .map_err(|e| err(&e))?;
        let points: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
