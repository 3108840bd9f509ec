//! Draws a report's per-minute timeline as an SVG document (text, no I/O): tasks, messages
//! visible and in flight, and the waiting time of the oldest visible message, over time.

use plotters::prelude::*;

use super::report::Minute;

/// Width and height of the chart, pixels.
const SIZE: (u32, u32) = (1000, 840);

/// A line of the chart: its label, colour and one value per minute.
struct Line<'a> {
    label: &'a str,
    color: RGBColor,
    value: fn(&Minute) -> f64,
}

/// One panel: a title, the unit of its y axis and its lines.
struct Panel<'a> {
    title: &'a str,
    unit: &'a str,
    lines: Vec<Line<'a>>,
}

const BLUE_: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN_: RGBColor = RGBColor(44, 160, 44);
const RED_: RGBColor = RGBColor(214, 39, 40);

fn panels() -> Vec<Panel<'static>> {
    vec![
        Panel {
            title: "Tasks",
            unit: "tasks",
            lines: vec![
                Line {
                    label: "desired",
                    color: ORANGE,
                    value: |m| f64::from(m.desired.max(0)),
                },
                Line {
                    label: "running",
                    color: BLUE_,
                    value: |m| f64::from(m.running),
                },
            ],
        },
        Panel {
            title: "Messages",
            unit: "messages",
            lines: vec![
                Line {
                    label: "visible",
                    color: RED_,
                    value: |m| f64::from(m.visible),
                },
                Line {
                    label: "in flight",
                    color: GREEN_,
                    value: |m| f64::from(m.in_flight),
                },
            ],
        },
        Panel {
            title: "Waiting time of the oldest visible message",
            unit: "seconds",
            lines: vec![Line {
                label: "oldest wait",
                color: BLUE_,
                value: |m| f64::from(m.oldest_wait),
            }],
        },
    ]
}

/// The chart of `timeline` (one row per minute) as an SVG document, titled `title`. The x
/// axis is in hours when the run is longer than three hours, else in minutes.
///
/// # Errors
/// What the drawing library reports (it does not fail on a well-formed timeline).
pub fn svg(timeline: &[Minute], title: &str) -> Result<String, String> {
    let mut out = String::new();
    draw(timeline, title, &mut out).map_err(|e| format!("cannot draw the chart: {e}"))?;
    Ok(out)
}

fn draw(
    timeline: &[Minute],
    title: &str,
    out: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let minutes = timeline.len().max(1) as f64;
    let (scale, unit) = if minutes > 180.0 {
        (60.0, "hours")
    } else {
        (1.0, "minutes")
    };
    let x_end = minutes / scale;
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 22))?;
    let areas = root.split_evenly((3, 1));
    for (area, panel) in areas.iter().zip(panels()) {
        let top = timeline
            .iter()
            .flat_map(|m| panel.lines.iter().map(move |l| (l.value)(m)))
            .fold(0.0_f64, f64::max);
        let y_end = if top > 0.0 { top * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption(panel.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)?;
        chart
            .configure_mesh()
            .x_desc(unit)
            .y_desc(panel.unit)
            .x_label_formatter(&|x| format!("{x:.0}"))
            // Below 10, ticks fall between whole numbers: show a decimal.
            .y_label_formatter(&|y| {
                if y_end < 10.0 {
                    format!("{y:.1}")
                } else {
                    format!("{y:.0}")
                }
            })
            .light_line_style(WHITE)
            .draw()?;
        for line in &panel.lines {
            let value = line.value;
            // Each row describes the minute's last second: draw it at the minute's end.
            let points = timeline
                .iter()
                .map(|m| ((f64::from(m.minute) + 1.0) / scale, value(m)));
            let color = line.color;
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(line.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(k: u32, desired: i32, visible: u32) -> Minute {
        Minute {
            minute: k,
            desired,
            running: desired.max(0) as u32,
            starting: 0,
            visible,
            in_flight: 1,
            delayed: 0,
            oldest_wait: visible * 2,
            arrived: visible,
            processed: 0,
        }
    }

    #[test]
    fn every_panel_and_line_is_drawn() {
        let timeline: Vec<Minute> = (0..30).map(|k| minute(k, (k / 5) as i32, k * 3)).collect();
        let svg = svg(&timeline, "burst").expect("draws");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        for text in [
            "burst",
            "Tasks",
            "Messages",
            "Waiting time",
            "desired",
            "running",
            "visible",
            "in flight",
            "oldest wait",
            "minutes",
        ] {
            assert!(svg.contains(text), "{text} is missing");
        }
        // The five data lines are the only ones two pixels wide, each in its colour.
        assert_eq!(svg.matches(r#"stroke-width="2""#).count(), 5);
        for color in ["#FF7F0E", "#1F77B4", "#D62728", "#2CA02C"] {
            assert!(
                svg.contains(&format!(r#"stroke="{color}" stroke-width="2""#)),
                "{color}"
            );
        }
    }

    #[test]
    fn an_empty_timeline_still_draws_axes() {
        let svg = svg(&[], "nothing").expect("draws");
        assert!(svg.contains("Tasks") && svg.trim_end().ends_with("</svg>"));
    }
}
