//! The real series shipped with the page, and the small index that lists them.
//!
//! [`CATALOGUE`] says what each file measures and where the numbers come from (R's `datasets`
//! help pages); `gradlab pack-series` checks each file against it and writes `index.tsv`, which
//! the page reads to offer the series with their source and units.

use super::series::{Frequency, SeriesError, read_csv_bytes};

/// What one shipped series is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatalogueEntry {
    /// File name in `assets/series/`.
    pub file: &'static str,
    /// Name shown in the page.
    pub name: &'static str,
    /// Expected spacing of the points.
    pub frequency: Frequency,
    /// Expected number of points.
    pub points: usize,
    /// Units of the values.
    pub units: &'static str,
    /// The original source of the numbers.
    pub source: &'static str,
}

/// The ten real series, as exported from R 4.2.2's `datasets` package.
pub const CATALOGUE: [CatalogueEntry; 10] = [
    CatalogueEntry {
        file: "airpassengers.csv",
        name: "AirPassengers",
        frequency: Frequency::Monthly,
        points: 144,
        units: "thousands of international airline passengers per month",
        source: "Box, Jenkins & Reinsel (1976), Series G",
    },
    CatalogueEntry {
        file: "co2_mauna_loa_monthly.csv",
        name: "CO2 at Mauna Loa",
        frequency: Frequency::Monthly,
        points: 468,
        units: "atmospheric CO2, ppm",
        source: "Keeling & Whorf, Scripps Institution of Oceanography",
    },
    CatalogueEntry {
        file: "lake_huron_level_yearly.csv",
        name: "Lake Huron level",
        frequency: Frequency::Yearly,
        points: 98,
        units: "level of Lake Huron, feet",
        source: "Brockwell & Davis (1991), Series A",
    },
    CatalogueEntry {
        file: "lynx_yearly.csv",
        name: "Canadian lynx",
        frequency: Frequency::Yearly,
        points: 114,
        units: "lynx trappings per year",
        source: "Brockwell & Davis (1991), Series G",
    },
    CatalogueEntry {
        file: "nile_flow_yearly.csv",
        name: "Nile flow",
        frequency: Frequency::Yearly,
        points: 100,
        units: "annual flow at Aswan, 10^8 m^3",
        source: "Durbin & Koopman (2001)",
    },
    CatalogueEntry {
        file: "nottingham_temperature_monthly.csv",
        name: "Nottingham temperature",
        frequency: Frequency::Monthly,
        points: 240,
        units: "mean air temperature at Nottingham Castle, °F",
        source: "Anderson (1976), Series R",
    },
    CatalogueEntry {
        file: "sunspots_monthly.csv",
        name: "Sunspots (monthly)",
        frequency: Frequency::Monthly,
        points: 3177,
        units: "monthly mean sunspot number",
        source: "WDC-SILSO, Royal Observatory of Belgium",
    },
    CatalogueEntry {
        file: "sunspots_yearly.csv",
        name: "Sunspots (yearly)",
        frequency: Frequency::Yearly,
        points: 289,
        units: "yearly sunspot number",
        source: "H. Tong (1996), Non-Linear Time Series, p. 471",
    },
    CatalogueEntry {
        file: "uk_gas_quarterly.csv",
        name: "UK gas consumption",
        frequency: Frequency::Quarterly,
        points: 108,
        units: "millions of therms per quarter",
        source: "Durbin & Koopman (2001)",
    },
    CatalogueEntry {
        file: "uk_lung_deaths_monthly.csv",
        name: "UK lung deaths",
        frequency: Frequency::Monthly,
        points: 72,
        units: "monthly UK deaths from bronchitis, emphysema and asthma",
        source: "Diggle (1990), table A.3",
    },
];

/// Name of the index file beside the series.
pub const INDEX_FILE: &str = "index.tsv";

/// Column names of the index, tab-separated on its first line.
const INDEX_HEADER: [&str; 8] =
    ["file", "name", "frequency", "points", "first", "last", "units", "source"];

/// One row of the index: a catalogue entry checked against its file.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// File name in the same folder.
    pub file: String,
    /// Name shown in the page.
    pub name: String,
    /// Spacing of the points.
    pub frequency: Frequency,
    /// Number of points.
    pub points: usize,
    /// First time stamp.
    pub first: String,
    /// Last time stamp.
    pub last: String,
    /// Units of the values.
    pub units: String,
    /// Original source.
    pub source: String,
}

/// A shipped file that does not match its catalogue entry, or an unreadable index.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    /// The file does not read as a series.
    #[error("{file}: {error}")]
    Unreadable { file: String, error: SeriesError },
    /// The file reads but is not what the catalogue says.
    #[error("{file}: expected {expected}, found {found}")]
    Mismatch { file: String, expected: String, found: String },
    /// A line of the index has the wrong number of fields or a bad number.
    #[error("series index line {line}: {problem}")]
    BadIndex { line: usize, problem: String },
}

impl CatalogueEntry {
    /// Reads `bytes` as this entry's file and checks its frequency and length.
    ///
    /// # Errors
    /// [`CatalogueError`] when the file does not read or does not match.
    pub fn check(&self, bytes: &[u8]) -> Result<IndexEntry, CatalogueError> {
        let series = read_csv_bytes(self.name, bytes)
            .map_err(|error| CatalogueError::Unreadable { file: self.file.to_string(), error })?;
        let found = (series.frequency, series.len());
        if found != (self.frequency, self.points) {
            return Err(CatalogueError::Mismatch {
                file: self.file.to_string(),
                expected: format!("{} {} points", self.points, self.frequency.name()),
                found: format!("{} {} points", found.1, found.0.name()),
            });
        }
        Ok(IndexEntry {
            file: self.file.to_string(),
            name: self.name.to_string(),
            frequency: self.frequency,
            points: series.len(),
            first: series.times[0].clone(),
            last: series.times[series.len() - 1].clone(),
            units: self.units.to_string(),
            source: self.source.to_string(),
        })
    }
}

/// Writes the index: a header line, then one tab-separated line per entry.
pub fn write_index(entries: &[IndexEntry]) -> String {
    let mut text = INDEX_HEADER.join("\t") + "\n";
    for e in entries {
        let points = e.points.to_string();
        let row = [
            e.file.as_str(),
            &e.name,
            e.frequency.name(),
            &points,
            &e.first,
            &e.last,
            &e.units,
            &e.source,
        ];
        text += &row.join("\t");
        text.push('\n');
    }
    text
}

/// Reads an index written by [`write_index`].
///
/// # Errors
/// [`CatalogueError::BadIndex`] naming the line.
pub fn read_index(text: &str) -> Result<Vec<IndexEntry>, CatalogueError> {
    let bad = |line: usize, problem: String| CatalogueError::BadIndex { line, problem };
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.is_empty());
    match lines.next() {
        Some((_, header)) if header.split('\t').eq(INDEX_HEADER) => {}
        _ => return Err(bad(1, format!("the header must be {}", INDEX_HEADER.join(" ")))),
    }
    lines
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != INDEX_HEADER.len() {
                return Err(bad(i + 1, format!("{} fields, expected 8", f.len())));
            }
            Ok(IndexEntry {
                file: f[0].to_string(),
                name: f[1].to_string(),
                frequency: Frequency::from_name(f[2])
                    .ok_or_else(|| bad(i + 1, format!("unknown frequency '{}'", f[2])))?,
                points: f[3].parse().map_err(|_| bad(i + 1, format!("bad count '{}'", f[3])))?,
                first: f[4].to_string(),
                last: f[5].to_string(),
                units: f[6].to_string(),
                source: f[7].to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_round_trips_and_a_mismatch_is_caught() {
        let entry = CatalogueEntry {
            file: "t.csv",
            name: "T",
            frequency: Frequency::Yearly,
            points: 16,
            units: "m",
            source: "here",
        };
        let mut csv = String::from("year,value\n");
        for y in 2000..2016 {
            csv += &format!("{y},{y}\n");
        }
        let row = entry.check(csv.as_bytes()).unwrap();
        assert_eq!((row.first.as_str(), row.last.as_str()), ("2000", "2015"));
        let text = write_index(std::slice::from_ref(&row));
        assert_eq!(read_index(&text).unwrap(), vec![row]);

        let wrong = CatalogueEntry { points: 17, ..entry };
        assert!(matches!(wrong.check(csv.as_bytes()), Err(CatalogueError::Mismatch { .. })));
        assert!(read_index("file\tname\n").is_err());
    }

    #[test]
    fn catalogue_fields_hold_no_tabs() {
        for e in CATALOGUE {
            for field in [e.file, e.name, e.units, e.source] {
                assert!(!field.contains(['\t', '\n']), "{field}");
            }
        }
    }
}
