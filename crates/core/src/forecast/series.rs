//! Time series read from CSV text: a time column and a value column.
//!
//! The reader checks everything that would make training meaningless and names the line at
//! fault: a missing column, a value that is not a number, a missing value, NaN or infinity, a
//! time stamp in no known format, a gap or a step back in time, and too few points.
//!
//! Time stamps are `YYYY-MM-DD` (daily), `YYYY-MM` (monthly), `YYYY-Qn` (quarterly) or a whole
//! number (yearly when the column is named `year`, otherwise a plain index). Every row must use
//! the format of the first, and consecutive rows must be exactly one period apart.

/// Fewest points a series may have: enough for a look-back, a test span and a few windows.
pub const MIN_POINTS: usize = 16;

/// How far apart consecutive points are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// One point a day, stamped `YYYY-MM-DD`.
    Daily,
    /// One point a month, stamped `YYYY-MM`.
    Monthly,
    /// One point a quarter, stamped `YYYY-Qn`.
    Quarterly,
    /// One point a year, stamped `YYYY`.
    Yearly,
    /// Points numbered 1, 2, 3, … (simulated series, or unnamed steps).
    Index,
}

impl Frequency {
    /// The natural seasonal lag (points per cycle) when the calendar gives one.
    pub fn season(self) -> Option<usize> {
        match self {
            Frequency::Daily => Some(7),
            Frequency::Monthly => Some(12),
            Frequency::Quarterly => Some(4),
            Frequency::Yearly | Frequency::Index => None,
        }
    }

    /// Lower-case name, as written in the series index.
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
            Frequency::Index => "index",
        }
    }

    /// The frequency called `name` (see [`Frequency::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Frequency::Daily,
            Frequency::Monthly,
            Frequency::Quarterly,
            Frequency::Yearly,
            Frequency::Index,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }

    /// The time format, for messages.
    fn format(self) -> &'static str {
        match self {
            Frequency::Daily => "a date YYYY-MM-DD",
            Frequency::Monthly => "a month YYYY-MM",
            Frequency::Quarterly => "a quarter YYYY-Qn",
            Frequency::Yearly => "a year YYYY",
            Frequency::Index => "a whole number",
        }
    }
}

/// A univariate series with its time stamps and what it measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Short name shown to the student (file name or catalogue title).
    pub name: String,
    /// Time stamps as written in the file, one per value.
    pub times: Vec<String>,
    /// The observations, in the series' own units.
    pub values: Vec<f64>,
    /// Spacing of the points.
    pub frequency: Frequency,
    /// Points per seasonal cycle, used by the seasonal-naive forecast and seasonal differencing.
    pub season: Option<usize>,
    /// Units of the values ("" when unknown).
    pub units: String,
    /// Where the numbers come from ("" when unknown).
    pub source: String,
}

impl Series {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the series has no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when every value is strictly positive (a log transform is then defined).
    pub fn is_positive(&self) -> bool {
        self.values.iter().all(|&v| v > 0.0)
    }
}

/// What is wrong with a CSV file, with the 1-based line at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    /// No line holds anything.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not UTF-8 text.
    #[error("the file is not text (UTF-8)")]
    NotText,
    /// A line has fewer than two fields.
    #[error(
        "line {line}: found {found} column(s); the file needs a time column and a value column"
    )]
    MissingColumn { line: usize, found: usize },
    /// The value field is empty or `NA`.
    #[error("line {line}: the value is missing")]
    MissingValue { line: usize },
    /// The value field does not parse as a number.
    #[error("line {line}: the value '{text}' is not a number")]
    NotNumeric { line: usize, text: String },
    /// The value is NaN or infinite.
    #[error("line {line}: the value is {text}, not a finite number")]
    NotFinite { line: usize, text: String },
    /// The time stamp is not in the format of the first row.
    #[error("line {line}: the time '{text}' is not {expected}")]
    BadTime { line: usize, text: String, expected: &'static str },
    /// Consecutive time stamps are more than one period apart.
    #[error("line {line}: {missing} point(s) missing between {before} and {after}")]
    Gap { line: usize, before: String, after: String, missing: i64 },
    /// A time stamp repeats or goes back in time.
    #[error("line {line}: the time {after} does not come after {before}")]
    OutOfOrder { line: usize, before: String, after: String },
    /// Too few rows to train and test anything.
    #[error("only {found} points; at least {min} are needed")]
    TooFewPoints { found: usize, min: usize },
}

/// Reads a series from CSV bytes; `name` is shown to the student.
///
/// # Errors
/// [`SeriesError`] naming the first problem and its line.
pub fn read_csv_bytes(name: &str, bytes: &[u8]) -> Result<Series, SeriesError> {
    let text = std::str::from_utf8(bytes).map_err(|_| SeriesError::NotText)?;
    read_csv(name, text)
}

/// Reads a series from CSV text: an optional header, then `time,value` rows. Commas separate
/// fields (semicolons or tabs when the first line has no comma); fields may be quoted; blank
/// lines are skipped. With more than two columns, the one named `value` is used if there is one.
///
/// # Errors
/// [`SeriesError`] naming the first problem and its line.
pub fn read_csv(name: &str, text: &str) -> Result<Series, SeriesError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let &(first_line, first) = lines.peek().ok_or(SeriesError::Empty)?;
    let separator = [',', ';', '\t'].into_iter().find(|&s| first.contains(s)).unwrap_or(',');

    let header = fields(first, separator);
    if header.len() < 2 {
        return Err(SeriesError::MissingColumn { line: first_line, found: header.len() });
    }
    let has_header = header[1].parse::<f64>().is_err();
    let (time_name, value_column) = if has_header {
        lines.next();
        let value_column = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case("value"))
            .filter(|&i| i > 0)
            .unwrap_or(1);
        (header[0].to_ascii_lowercase(), value_column)
    } else {
        (String::new(), 1)
    };

    let mut times = Vec::new();
    let mut values = Vec::new();
    let mut frequency = None;
    let mut previous: Option<(i64, String)> = None;
    for (line, text) in lines {
        let row = fields(text, separator);
        if row.len() <= value_column {
            return Err(SeriesError::MissingColumn { line, found: row.len() });
        }
        let value = parse_value(line, &row[value_column])?;

        let stamp = row[0].clone();
        let freq = *frequency.get_or_insert_with(|| guess_frequency(&stamp, &time_name));
        let ordinal = period_ordinal(&stamp, freq).ok_or_else(|| SeriesError::BadTime {
            line,
            text: stamp.clone(),
            expected: freq.format(),
        })?;
        if let Some((before_ordinal, before)) = &previous {
            let step = ordinal - before_ordinal;
            if step < 1 {
                return Err(SeriesError::OutOfOrder { line, before: before.clone(), after: stamp });
            }
            if step > 1 {
                return Err(SeriesError::Gap {
                    line,
                    before: before.clone(),
                    after: stamp,
                    missing: step - 1,
                });
            }
        }
        previous = Some((ordinal, stamp.clone()));
        times.push(stamp);
        values.push(value);
    }

    if values.len() < MIN_POINTS {
        return Err(SeriesError::TooFewPoints { found: values.len(), min: MIN_POINTS });
    }
    let frequency = frequency.unwrap_or(Frequency::Index);
    Ok(Series {
        name: name.to_string(),
        times,
        values,
        frequency,
        season: frequency.season(),
        units: String::new(),
        source: String::new(),
    })
}

/// The fields of one line, trimmed and unquoted.
fn fields(line: &str, separator: char) -> Vec<String> {
    line.split(separator)
        .map(|f| {
            let f = f.trim();
            let f = f.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(f);
            f.trim().to_string()
        })
        .collect()
}

fn parse_value(line: usize, text: &str) -> Result<f64, SeriesError> {
    if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("null") {
        return Err(SeriesError::MissingValue { line });
    }
    let value: f64 =
        text.parse().map_err(|_| SeriesError::NotNumeric { line, text: text.to_string() })?;
    if !value.is_finite() {
        return Err(SeriesError::NotFinite { line, text: text.to_string() });
    }
    Ok(value)
}

/// The frequency implied by the first time stamp (and the column name for whole numbers).
fn guess_frequency(stamp: &str, column: &str) -> Frequency {
    let parts: Vec<&str> = stamp.split('-').collect();
    match parts.as_slice() {
        [_, q] if q.starts_with(['Q', 'q']) => Frequency::Quarterly,
        [_, _] => Frequency::Monthly,
        [_, _, _] => Frequency::Daily,
        _ if column == "year" => Frequency::Yearly,
        _ => Frequency::Index,
    }
}

/// The number of periods since a fixed origin, so that consecutive stamps differ by one; `None`
/// when `stamp` is not in the format of `frequency`.
fn period_ordinal(stamp: &str, frequency: Frequency) -> Option<i64> {
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<i64> {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let parts: Vec<&str> = stamp.split('-').collect();
    match (frequency, parts.as_slice()) {
        (Frequency::Yearly, [y]) => digits(y, 1..=4),
        (Frequency::Index, [n]) => digits(n, 1..=12),
        (Frequency::Monthly, [y, m]) => {
            let (y, m) = (digits(y, 4..=4)?, digits(m, 2..=2)?);
            (1..=12).contains(&m).then_some(y * 12 + m - 1)
        }
        (Frequency::Quarterly, [y, q]) => {
            let y = digits(y, 4..=4)?;
            let q = digits(q.strip_prefix(['Q', 'q'])?, 1..=1)?;
            (1..=4).contains(&q).then_some(y * 4 + q - 1)
        }
        (Frequency::Daily, [y, m, d]) => {
            let (y, m, d) = (digits(y, 4..=4)?, digits(m, 2..=2)?, digits(d, 2..=2)?);
            day_number(y, m, d)
        }
        _ => None,
    }
}

/// Days since 1 January of year 0 in the proleptic Gregorian calendar; `None` for a date that
/// does not exist (30 February, month 13).
fn day_number(year: i64, month: i64, day: i64) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let month_index = usize::try_from(month - 1).ok().filter(|&m| m < 12)?;
    let in_month = DAYS[month_index] + i64::from(leap && month == 2);
    if !(1..=in_month).contains(&day) {
        return None;
    }
    let before_year = year * 365 + (year + 3) / 4 - (year + 99) / 100 + (year + 399) / 400;
    let before_month: i64 = DAYS[..month_index].iter().sum::<i64>() + i64::from(leap && month > 2);
    Some(before_year + before_month + day - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monthly(rows: usize) -> String {
        let mut text = String::from("month,value\n");
        for i in 0..rows {
            text += &format!("{}-{:02},{}\n", 1950 + i / 12, i % 12 + 1, 100 + i);
        }
        text
    }

    #[test]
    fn reads_a_monthly_series() {
        let series = read_csv("test", &monthly(20)).unwrap();
        assert_eq!(series.len(), 20);
        assert_eq!(series.frequency, Frequency::Monthly);
        assert_eq!(series.season, Some(12));
        assert_eq!(series.times[13], "1951-02");
        assert_eq!(series.values[13], 113.0);
    }

    #[test]
    fn reads_quarters_years_days_and_plain_numbers() {
        let mut quarters = String::from("quarter,value\n");
        let mut years = String::from("year,value\n");
        let mut days = String::from("date,value\n");
        let mut plain = String::new();
        for i in 0..20 {
            quarters += &format!("{}-Q{},{i}\n", 1960 + i / 4, i % 4 + 1);
            years += &format!("{},{i}.5\n", 1900 + i);
            // 2024 is a leap year: 2024-02-20 + 9 days is 2024-02-29, then 2024-03-01.
            let (m, d) = if i < 10 { (2, 20 + i) } else { (3, i - 9) };
            days += &format!("2024-{m:02}-{d:02},{i}\n");
            plain += &format!("{},{}\n", i + 1, -(i as i64));
        }
        assert_eq!(read_csv("q", &quarters).unwrap().frequency, Frequency::Quarterly);
        let y = read_csv("y", &years).unwrap();
        assert_eq!((y.frequency, y.season, y.values[3]), (Frequency::Yearly, None, 3.5));
        let d = read_csv("d", &days).unwrap();
        assert_eq!((d.frequency, d.season), (Frequency::Daily, Some(7)));
        let p = read_csv("p", &plain).unwrap();
        assert_eq!((p.frequency, p.values[19]), (Frequency::Index, -19.0));
    }

    #[test]
    fn accepts_quotes_crlf_semicolons_and_extra_columns() {
        let mut text = String::from("\"time\";\"note\";\"value\"\r\n");
        for i in 0..16 {
            text += &format!("\"{}\";x;{}\r\n", i + 1, i * 2);
        }
        let series = read_csv("s", &text).unwrap();
        assert_eq!(series.values[5], 10.0);
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = read_csv("s", "month\n1950-01\n").unwrap_err();
        assert_eq!(err, SeriesError::MissingColumn { line: 1, found: 1 });
        let mut text = monthly(20);
        text = text.replace("1950-04,103", "1950-04");
        assert_eq!(
            read_csv("s", &text).unwrap_err(),
            SeriesError::MissingColumn { line: 5, found: 1 }
        );
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let text = monthly(20).replace("1950-03,102", "1950-03,lots");
        assert_eq!(
            read_csv("s", &text).unwrap_err(),
            SeriesError::NotNumeric { line: 4, text: "lots".into() }
        );
        let text = monthly(20).replace("1950-03,102", "1950-03,NaN");
        let err = read_csv("s", &text).unwrap_err();
        assert_eq!(err, SeriesError::NotFinite { line: 4, text: "NaN".into() });
        assert_eq!(err.to_string(), "line 4: the value is NaN, not a finite number");
        let text = monthly(20).replace("1950-03,102", "1950-03,");
        assert_eq!(read_csv("s", &text).unwrap_err(), SeriesError::MissingValue { line: 4 });
    }

    #[test]
    fn gaps_and_steps_back_are_found() {
        let text = monthly(20).replace("1950-05,104\n", "");
        // Header on line 1, 1950-04 on line 5, 1950-06 on line 6.
        assert_eq!(
            read_csv("s", &text).unwrap_err(),
            SeriesError::Gap {
                line: 6,
                before: "1950-04".into(),
                after: "1950-06".into(),
                missing: 1
            }
        );
        let text = monthly(20).replace("1950-05,", "1950-04,");
        assert!(matches!(
            read_csv("s", &text).unwrap_err(),
            SeriesError::OutOfOrder { line: 6, .. }
        ));
        let text = monthly(20).replace("1950-05,", "1950-13,");
        assert!(matches!(read_csv("s", &text).unwrap_err(), SeriesError::BadTime { line: 6, .. }));
    }

    #[test]
    fn too_few_points_and_empty_files() {
        assert_eq!(
            read_csv("s", &monthly(5)).unwrap_err(),
            SeriesError::TooFewPoints { found: 5, min: MIN_POINTS }
        );
        assert_eq!(read_csv("s", "\n\n").unwrap_err(), SeriesError::Empty);
        assert_eq!(read_csv_bytes("s", &[0xff, 0xfe]).unwrap_err(), SeriesError::NotText);
    }

    #[test]
    fn day_numbers_count_leap_days() {
        // 2000 is a leap year (divisible by 400), 1900 is not (divisible by 100 only).
        let d = |y, m, d| day_number(y, m, d).unwrap();
        assert_eq!(d(2000, 3, 1) - d(2000, 2, 28), 2);
        assert_eq!(d(1900, 3, 1) - d(1900, 2, 28), 1);
        assert_eq!(d(2001, 1, 1) - d(2000, 1, 1), 366);
        assert_eq!(d(2000, 1, 1) - d(1999, 12, 31), 1);
        assert_eq!(day_number(2023, 2, 29), None);
    }
}
