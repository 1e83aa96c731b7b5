//! The plot of the soak: resident memory and series over the requests answered, one panel each,
//! both axes from zero, the end of warm-up marked.

use crate::font;
use crate::scrape::Sample;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

const GRID: RGBColor = RGBColor(225, 225, 225);
const INK: RGBColor = RGBColor(60, 60, 60);
const MEMORY: RGBColor = RGBColor(200, 40, 40);
const SERIES: RGBColor = RGBColor(30, 90, 200);

/// Draws both panels into the PNG at `path`; `warm_up` is the requests of warm-up.
pub(crate) fn draw(path: &Path, samples: &[Sample], warm_up: u64) -> Result<(), Box<dyn Error>> {
    let root = BitMapBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(380);
    let x = |s: &Sample| s.requests as f64 / 1e6;
    let warm_up = warm_up as f64 / 1e6;
    let memory = samples.iter().map(|s| (x(s), s.rss_kib as f64 / 1024.0));
    let series = samples.iter().map(|s| (x(s), s.series as f64));
    let max_x = samples.iter().map(x).fold(warm_up, f64::max);
    panel(
        &root,
        &top,
        "resident memory (MiB)",
        memory.collect(),
        (max_x, warm_up),
        MEMORY,
    )?;
    panel(
        &root,
        &bottom,
        "series in the scrape",
        series.collect(),
        (max_x, warm_up),
        SERIES,
    )?;
    let caption = "requests answered (millions)";
    let (width, height) = root.dim_in_pixel();
    let left = (i32::try_from(width)? - font::width(caption)) / 2;
    font::draw(
        &root,
        (left, i32::try_from(height)? - font::HEIGHT - 8),
        caption,
        &INK,
    )?;
    root.present()?;
    Ok(())
}

/// One panel in `area`: `points` as a line under `title`, a grid with its values written on
/// `root`, and the end of warm-up as a vertical line.
fn panel(
    root: &Area<'_>,
    area: &Area<'_>,
    title: &str,
    points: Vec<(f64, f64)>,
    (max_x, warm_up): (f64, f64),
    color: RGBColor,
) -> Result<(), Box<dyn Error>> {
    let max_y = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let (x_step, x_end) = axis(max_x);
    // Headroom above the highest point, for the warm-up mark.
    let (y_step, y_end) = axis(max_y * 1.1);
    let mut chart = ChartBuilder::on(area)
        .margin_left(90)
        .margin_right(30)
        .margin_top(40)
        .margin_bottom(56)
        .build_cartesian_2d(0.0..x_end, 0.0..y_end)?;
    for y in ticks(y_step, y_end) {
        chart.draw_series(LineSeries::new([(0.0, y), (x_end, y)], GRID))?;
        let (px, py) = chart.backend_coord(&(0.0, y));
        let label = number(y, y_step);
        font::draw(
            root,
            (px - 10 - font::width(&label), py - font::HEIGHT / 2),
            &label,
            &INK,
        )?;
    }
    for x in ticks(x_step, x_end) {
        chart.draw_series(LineSeries::new([(x, 0.0), (x, y_end)], GRID))?;
        let (px, py) = chart.backend_coord(&(x, 0.0));
        let label = number(x, x_step);
        font::draw(root, (px - font::width(&label) / 2, py + 12), &label, &INK)?;
    }
    chart.draw_series(LineSeries::new([(warm_up, 0.0), (warm_up, y_end)], INK))?;
    let (px, py) = chart.backend_coord(&(warm_up, y_end));
    font::draw(root, (px + 6, py + 6), "warm-up", &INK)?;
    chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
    let (px, py) = chart.backend_coord(&(0.0, y_end));
    font::draw(root, (px, py - font::HEIGHT - 12), title, &color)?;
    Ok(())
}

/// A round step for about five ticks up to `max`, and the axis' end: the first multiple of the
/// step at or above `max`.
fn axis(max: f64) -> (f64, f64) {
    let max = if max > 0.0 { max } else { 1.0 };
    let rough = max / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude);
    (step, (max / step).ceil() * step)
}

/// The ticks `0, step, …` up to `end`.
fn ticks(step: f64, end: f64) -> impl Iterator<Item = f64> {
    (0_i32..)
        .map(move |i| f64::from(i) * step)
        .take_while(move |t| *t <= end + step / 2.0)
}

/// `value` with as many decimals as `step` needs.
fn number(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
}
