//! A drawn digit turned into an MNIST input the way MNIST itself was made.
//!
//! MNIST's digits were size-normalised to fit a 20x20 box keeping their aspect ratio
//! (anti-aliased), then placed in a 28x28 field so that their centre of mass lands at the
//! centre. [`to_mnist`] repeats those steps on the ink of a drawing.

use crate::data::mnist::{IMAGE_PIXELS, IMAGE_SIDE};

/// Side of the box the digit is scaled into, in pixels.
pub const BOX_SIDE: usize = 20;
/// Ink below this coverage (0..1) does not count when cropping.
const INK_THRESHOLD: f32 = 0.05;

/// Why a drawing cannot be classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawingError {
    #[error("the drawing is empty: draw a digit")]
    Empty,
    #[error("the drawing has {found} values for {width}x{height} pixels")]
    Size { width: usize, height: usize, found: usize },
}

/// Turns ink coverage (`width × height` values in 0..1, row-major; 1 = full ink) into 784
/// MNIST pixels (0 = background, 255 = ink).
///
/// Steps: crop to the ink's bounding box; scale it by area averaging so that its longer side
/// is 20 px; place it in 28x28 shifted by whole pixels so that its centre of mass is as close
/// as possible to (14, 14) (row, column, in pixel indices), as MNIST did.
pub fn to_mnist(ink: &[f32], width: usize, height: usize) -> Result<Vec<u8>, DrawingError> {
    if ink.len() != width * height {
        return Err(DrawingError::Size { width, height, found: ink.len() });
    }
    let (top, left, bottom, right) = bounding_box(ink, width).ok_or(DrawingError::Empty)?;

    let boxed = scale_into_box(ink, width, (top, left, bottom, right));
    let (rows, cols) = (boxed.rows, boxed.cols);
    let (com_row, com_col) = centre_of_mass(&boxed.values, cols).ok_or(DrawingError::Empty)?;

    let centre = IMAGE_SIDE as f32 / 2.0;
    let offset = |com: f32, extent: usize| {
        ((centre - com).round() as i64).clamp(0, (IMAGE_SIDE - extent) as i64) as usize
    };
    let (row0, col0) = (offset(com_row, rows), offset(com_col, cols));

    let mut pixels = vec![0u8; IMAGE_PIXELS];
    for r in 0..rows {
        for c in 0..cols {
            let v = boxed.values[r * cols + c].clamp(0.0, 1.0);
            pixels[(row0 + r) * IMAGE_SIDE + col0 + c] = (v * 255.0).round() as u8;
        }
    }
    Ok(pixels)
}

/// The digit scaled into at most 20x20 pixels.
struct Boxed {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

/// Inclusive (top, left, bottom, right) of the pixels holding ink, or `None` for no ink.
fn bounding_box(ink: &[f32], width: usize) -> Option<(usize, usize, usize, usize)> {
    let mut found: Option<(usize, usize, usize, usize)> = None;
    for (i, &v) in ink.iter().enumerate() {
        if v < INK_THRESHOLD {
            continue;
        }
        let (r, c) = (i / width, i % width);
        found = Some(match found {
            None => (r, c, r, c),
            Some((t, l, b, rt)) => (t.min(r), l.min(c), b.max(r), rt.max(c)),
        });
    }
    found
}

/// Area-averages the cropped ink into a grid whose longer side is [`BOX_SIDE`]; each output
/// pixel is the mean coverage of the source area it covers, which anti-aliases the strokes.
fn scale_into_box(ink: &[f32], width: usize, crop: (usize, usize, usize, usize)) -> Boxed {
    let (top, left, bottom, right) = crop;
    let (crop_h, crop_w) = (bottom - top + 1, right - left + 1);
    let scale = BOX_SIDE as f32 / crop_h.max(crop_w) as f32;
    let rows = ((crop_h as f32 * scale).round() as usize).clamp(1, BOX_SIDE);
    let cols = ((crop_w as f32 * scale).round() as usize).clamp(1, BOX_SIDE);

    let mut values = vec![0.0f32; rows * cols];
    let mut weights = vec![0.0f32; rows * cols];
    // Each source pixel is split into sub-samples so that small crops are spread smoothly.
    let sub = (scale.ceil() as usize).clamp(1, 8);
    for r in 0..crop_h {
        for c in 0..crop_w {
            let v = ink[(top + r) * width + left + c];
            for sr in 0..sub {
                for sc in 0..sub {
                    let y =
                        (r as f32 + (sr as f32 + 0.5) / sub as f32) * rows as f32 / crop_h as f32;
                    let x =
                        (c as f32 + (sc as f32 + 0.5) / sub as f32) * cols as f32 / crop_w as f32;
                    let cell = (y as usize).min(rows - 1) * cols + (x as usize).min(cols - 1);
                    values[cell] += v;
                    weights[cell] += 1.0;
                }
            }
        }
    }
    for (v, w) in values.iter_mut().zip(&weights) {
        if *w > 0.0 {
            *v /= w;
        }
    }
    Boxed { rows, cols, values }
}

/// Centre of mass (row, column) in pixel indices, or `None` when there is no mass.
pub fn centre_of_mass(values: &[f32], cols: usize) -> Option<(f32, f32)> {
    let (mut mass, mut row, mut col) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in values.iter().enumerate() {
        let v = v as f64;
        mass += v;
        row += v * (i / cols) as f64;
        col += v * (i % cols) as f64;
    }
    (mass > 0.0).then(|| ((row / mass) as f32, (col / mass) as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 200x200 canvas with an L-shaped stroke in its top-left corner.
    fn off_centre_stroke() -> Vec<f32> {
        let mut ink = vec![0.0f32; 200 * 200];
        for r in 10..90 {
            for c in 20..32 {
                ink[r * 200 + c] = 1.0;
            }
        }
        for r in 78..90 {
            for c in 20..60 {
                ink[r * 200 + c] = 1.0;
            }
        }
        ink
    }

    #[test]
    fn centres_the_mass_and_keeps_the_twenty_pixel_box() {
        let pixels = to_mnist(&off_centre_stroke(), 200, 200).unwrap();
        let values: Vec<f32> = pixels.iter().map(|&p| p as f32).collect();
        let (row, col) = centre_of_mass(&values, IMAGE_SIDE).unwrap();
        assert!((row - 14.0).abs() <= 0.5, "row {row}");
        assert!((col - 14.0).abs() <= 0.5, "col {col}");

        let inked: Vec<usize> = (0..IMAGE_PIXELS).filter(|&i| pixels[i] > 0).collect();
        let rows = inked.iter().map(|i| i / 28).max().unwrap()
            - inked.iter().map(|i| i / 28).min().unwrap()
            + 1;
        let cols = inked.iter().map(|i| i % 28).max().unwrap()
            - inked.iter().map(|i| i % 28).min().unwrap()
            + 1;
        // The stroke is 80 tall and 40 wide: it scales to 20 x 10.
        assert_eq!((rows, cols), (20, 10));
    }

    #[test]
    fn an_empty_drawing_is_an_error() {
        assert_eq!(to_mnist(&vec![0.0; 100], 10, 10), Err(DrawingError::Empty));
        assert!(matches!(to_mnist(&[0.0; 5], 10, 10), Err(DrawingError::Size { .. })));
    }

    #[test]
    fn anti_aliasing_gives_grey_levels_on_a_diagonal() {
        // A 2-pixel-wide diagonal across 100x100 pixels shrinks fivefold: each output pixel
        // averages 25 source pixels, of which only some are inked.
        let mut ink = vec![0.0f32; 100 * 100];
        for r in 0..100usize {
            for c in r.saturating_sub(1)..=r {
                ink[r * 100 + c] = 1.0;
            }
        }
        let pixels = to_mnist(&ink, 100, 100).unwrap();
        let grey = pixels.iter().filter(|&&p| p > 0 && p < 255).count();
        assert!(grey >= 20, "{grey} grey pixels");
        // A diagonal cell holds rows 5i..5i+4 with pixels (r, r−1) and (r, r): 9 of its 25
        // source pixels are inked (at r = 5i, r−1 falls in the cell to the left), so its
        // coverage is 9/25 and its value round(0.36·255) = 92.
        assert_eq!(pixels.iter().copied().max(), Some(92));
    }
}
