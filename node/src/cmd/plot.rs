//! `zkr bench --plot`: prove time and proven transactions per second against batch size.

use plotters::prelude::*;
use std::path::Path;
use zkr_benches::BenchRow;

const COLORS: [RGBColor; 6] = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];

/// Draws two panels (prove time, proven tx/s), one line per thread count, into an SVG file.
pub fn plot(path: &Path, rows: &[BenchRow], title: &str) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let root = root
        .titled(title, ("sans-serif", 18))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (left, right) = root.split_horizontally(550);
    let mut threads: Vec<usize> = rows.iter().map(|r| r.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let max_b = rows.iter().map(|r| r.batch_size).max().unwrap_or(1) as f64;
    for (area, label, value) in [
        (
            &left,
            "prove time (s, median)",
            (|r: &BenchRow| r.prove_s.median) as fn(&BenchRow) -> f64,
        ),
        (&right, "proven transactions per second", |r: &BenchRow| {
            r.proven_tx_per_s
        }),
    ] {
        let max_y = rows.iter().map(value).fold(0.0f64, f64::max) * 1.15 + 1e-9;
        let mut chart = ChartBuilder::on(area)
            .caption(label, ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..max_b * 1.05, 0.0..max_y)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("batch size (slots)")
            .y_desc(label)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (i, t) in threads.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.threads == *t)
                .map(|r| (r.batch_size as f64, value(r)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(format!("{t} thread(s)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
