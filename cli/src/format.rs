//! Text formatting shared by the commands: durations, aligned tables, the command line.

/// A duration with a unit that keeps 3–4 significant digits: `812 ns`, `45.1 µs`, `1.79 ms`.
pub fn duration(seconds: f64) -> String {
    let (value, unit) = if seconds < 1e-6 {
        (seconds * 1e9, "ns")
    } else if seconds < 1e-3 {
        (seconds * 1e6, "µs")
    } else if seconds < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    let decimals = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.decimals$} {unit}")
}

/// FLOPs as GFLOP with three decimals, or three significant digits when smaller.
pub fn gflop(flops: f64) -> String {
    let g = flops / 1e9;
    if g >= 0.01 {
        format!("{g:.3}")
    } else {
        format!("{g:.2e}")
    }
}

/// A fraction as a percentage with one decimal, or `-` when unknown (zero or not finite).
pub fn percent(fraction: f64) -> String {
    if fraction > 0.0 && fraction.is_finite() {
        format!("{:.1}", 100.0 * fraction)
    } else {
        "-".to_string()
    }
}

/// Left-aligned columns except those marked in `right`, two spaces apart, each line
/// prefixed by `indent`.
pub fn table(indent: &str, headers: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(indent);
        for (i, cell) in cells.iter().enumerate().take(cols) {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                s.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if i + 1 < cols {
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// This process's command line, with arguments quoted where a shell would need it.
pub fn command_line() -> String {
    let mut args = std::env::args();
    // Show the program as `conv1x1`, whatever path it was started from.
    let _ = args.next();
    std::iter::once("conv1x1".to_string())
        .chain(args.map(|a| shell_quote(&a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_units() {
        assert_eq!(duration(812e-9), "812 ns");
        assert_eq!(duration(45.12e-6), "45.1 µs");
        assert_eq!(duration(1.7912e-3), "1.79 ms");
        assert_eq!(duration(2.5), "2.50 s");
    }

    #[test]
    fn tables_align() {
        let t = table(
            "",
            &["a", "bb"],
            &[false, true],
            &[vec!["xyz".into(), "1".into()]],
        );
        assert_eq!(t, "a    bb\nxyz   1\n");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--shape=4x4@4"), "--shape=4x4@4");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
