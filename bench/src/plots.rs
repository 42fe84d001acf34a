//! PNG line charts of benchmark figures (`bench/plots/`, shown in `RESULTS.md`): where a
//! picture says more than a median, such as throughput against threads or a latency
//! distribution.
//!
//! Drawn with plotters' pure-Rust bitmap backend; text needs a TrueType font, read from
//! the system (Debian's `fonts-dejavu-core`, which `make bench` installs) or from
//! `BENCH_FONT`.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use anyhow::{anyhow, Context, Result};
use plotters::{
    prelude::*,
    style::{register_font, FontStyle},
};

/// The plots' directory beside a results file (`bench/results.json` → `bench/plots/`).
pub fn plots_dir(results_file: &Path) -> PathBuf {
    results_file.with_file_name("plots")
}

/// Fonts tried in order when `BENCH_FONT` is unset.
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Registers the font plotters draws text with, once per process.
fn ensure_font() -> Result<()> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let candidates: Vec<PathBuf> = match std::env::var_os("BENCH_FONT") {
            Some(path) => vec![PathBuf::from(path)],
            None => FONT_PATHS.iter().map(PathBuf::from).collect(),
        };
        let path = candidates
            .iter()
            .find(|path| path.is_file())
            .ok_or_else(|| {
                format!(
                    "no TrueType font for the plots (tried {candidates:?}): install Debian's \
                 fonts-dejavu-core (`make bench` does) or set BENCH_FONT"
                )
            })?;
        let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // plotters keeps fonts for the process's lifetime.
        register_font(
            "sans-serif",
            FontStyle::Normal,
            Box::leak(bytes.into_boxed_slice()),
        )
        .map_err(|_| format!("{} is not a usable TrueType font", path.display()))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Its legend entry.
    pub name: String,
    /// (x, y) points, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Drawn thin, without markers, in the colour of the measured series before it: a
    /// reference line such as that series' ideal scaling.
    pub reference: bool,
}

impl Series {
    /// A measured series (markers at each point).
    pub fn measured(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            reference: false,
        }
    }

    /// A reference line (thin, no markers).
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            reference: true,
        }
    }
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// The caption above the plot.
    pub title: &'a str,
    /// The x axis's label.
    pub x_label: &'a str,
    /// The y axis's label.
    pub y_label: &'a str,
    /// A base-2 logarithmic x axis (batch sizes, thread counts spanning octaves).
    pub log2_x: bool,
    /// The lines.
    pub series: Vec<Series>,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 540;
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

/// Draws `chart` into the PNG file `path` (its directory is created).
pub fn line_chart(path: &Path, chart: &Chart<'_>) -> Result<()> {
    ensure_font()?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let points = || chart.series.iter().flat_map(|s| s.points.iter().copied());
    let (x_min, x_max) = bounds(points().map(|(x, _)| x)).context("a chart with no points")?;
    let (_, y_max) = bounds(points().map(|(_, y)| y)).context("a chart with no points")?;
    let y_range = 0.0..(y_max * 1.1).max(f64::MIN_POSITIVE);
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(chart.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80);
        if chart.log2_x {
            let x = (x_min..x_max * 1.05).log_scale().base(2.0);
            draw_on(builder.build_cartesian_2d(x, y_range)?, chart)?;
        } else {
            let span = (x_max - x_min).max(f64::MIN_POSITIVE);
            let x = (x_min - span * 0.02)..(x_max + span * 0.05);
            draw_on(builder.build_cartesian_2d(x, y_range)?, chart)?;
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("drawing {}: {e}", path.display()))
}

/// The mesh, the series and the legend, on either kind of x axis.
fn draw_on<X>(
    mut ctx: Ctx<'_, X>,
    chart: &Chart<'_>,
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 15))
        .light_line_style(RGBColor(238, 238, 238))
        .x_label_formatter(&|x| format_tick(*x))
        .y_label_formatter(&|y| format_tick(*y))
        .draw()?;
    draw_series(&mut ctx, &chart.series)?;
    legend(&mut ctx)
}

type Ctx<'a, X> =
    ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>;

fn draw_series<X>(
    ctx: &mut Ctx<'_, X>,
    series: &[Series],
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64>,
{
    // A reference line takes the colour of the measured line before it (its ideal).
    let mut measured: usize = 0;
    for line in series {
        if !line.reference {
            measured += 1;
        }
        let color = PALETTE[measured.saturating_sub(1) % PALETTE.len()];
        let width = if line.reference { 1 } else { 3 };
        ctx.draw_series(LineSeries::new(
            line.points.iter().copied(),
            color.stroke_width(width),
        ))?
        .label(line.name.clone())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(width)));
        if !line.reference && line.points.len() <= 64 {
            ctx.draw_series(
                line.points
                    .iter()
                    .map(|&point| Circle::new(point, 4, color.filled())),
            )?;
        }
    }
    Ok(())
}

fn legend<X>(ctx: &mut Ctx<'_, X>) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    X: Ranged<ValueType = f64>,
{
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// The smallest and largest finite value.
fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Axis ticks: thousands as `k`, millions as `M`, small values with up to two decimals.
fn format_tick(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{}M", trim(value / 1e6))
    } else if magnitude >= 1e4 {
        format!("{}k", trim(value / 1e3))
    } else {
        trim(value)
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(format_tick(2_500_000.0), "2.5M");
        assert_eq!(format_tick(96_000.0), "96k");
        assert_eq!(format_tick(1_024.0), "1024");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(3.0), "3");
    }

    #[test]
    fn a_chart_is_written_as_a_png() {
        // `make test` and `make bench` install the font (Makefile: fonts).
        let dir = tempfile::tempdir().unwrap();
        for log2_x in [true, false] {
            let path = dir.path().join(format!("sub/chart_{log2_x}.png"));
            line_chart(
                &path,
                &Chart {
                    title: "t",
                    x_label: "x",
                    y_label: "y",
                    log2_x,
                    series: vec![
                        Series::measured("a", vec![(1.0, 10.0), (2.0, 19.0), (4.0, 30.0)]),
                        Series::reference("ideal", vec![(1.0, 10.0), (4.0, 40.0)]),
                    ],
                },
            )
            .unwrap();
            let bytes = fs::read(&path).unwrap();
            assert_eq!(&bytes[1..4], b"PNG");
            assert!(bytes.len() > 2_000, "a real picture, not an empty frame");
        }
    }

    #[test]
    fn an_empty_chart_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let chart = Chart {
            title: "t",
            x_label: "x",
            y_label: "y",
            log2_x: false,
            series: vec![],
        };
        assert!(line_chart(&dir.path().join("c.png"), &chart).is_err());
    }
}
