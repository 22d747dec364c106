//! The shipped series: the committed index is exactly what `gradlab pack-series` writes from the
//! committed files, and the baselines on AirPassengers match values computed from the data
//! independently (a plain Python script over the CSV).

use std::path::{Path, PathBuf};

use gradlab_core::forecast::catalogue::{CATALOGUE, INDEX_FILE, read_index, write_index};
use gradlab_core::forecast::metrics::{Horizon, compare};
use gradlab_core::forecast::series::read_csv_bytes;

fn series_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/series")
}

#[test]
fn the_committed_index_matches_the_committed_files() {
    let dir = series_dir();
    let checked: Vec<_> = CATALOGUE
        .iter()
        .map(|entry| {
            let bytes = std::fs::read(dir.join(entry.file)).expect("every catalogued file ships");
            entry.check(&bytes).unwrap()
        })
        .collect();
    let index = std::fs::read_to_string(dir.join(INDEX_FILE)).expect("the index ships");
    assert_eq!(index, write_index(&checked));
    assert_eq!(read_index(&index).unwrap(), checked);
}

#[test]
fn air_passengers_baselines_match_an_independent_computation() {
    let bytes = std::fs::read(series_dir().join("airpassengers.csv")).unwrap();
    let series = read_csv_bytes("AirPassengers", &bytes).unwrap();
    assert_eq!((series.len(), series.values[0], series.values[143]), (144, 112.0, 432.0));

    // The network's forecasts do not matter here: only the baseline rows are checked.
    let none = vec![0.0; 24];
    let rows = compare(&series.values, 120, series.season, &none, &none);
    let expected = [
        (Horizon::OneStep, "naive", 51.781994940326506, 44.208333333333336, 9.729930052564972),
        (
            Horizon::OneStep,
            "seasonal naive (12)",
            49.98666488841466,
            47.583333333333336,
            10.522728354862307,
        ),
        (Horizon::Recursive, "naive", 137.32898455897794, 115.25, 23.57746741367815),
        (Horizon::Recursive, "seasonal naive (12)", 76.99458855443457, 71.25, 15.523355162420378),
    ];
    for (horizon, method, rmse, mae, mape) in expected {
        let row = rows.iter().find(|r| r.horizon == horizon && r.method == method).unwrap();
        assert!((row.metrics.rmse - rmse).abs() < 1e-9, "{method}");
        assert!((row.metrics.mae - mae).abs() < 1e-9, "{method}");
        assert!((row.metrics.mape.unwrap() - mape).abs() < 1e-9, "{method}");
    }
}
