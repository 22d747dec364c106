//! Arbitrary bytes through the Flux/BSON.jl import and the model-file reader: any input must
//! give a model or an error, never a panic, and an accepted model must give valid weights.

#![no_main]

use gradlab_core::models::ModelFile;
use gradlab_core::models::flux::{ImportOptions, read_flux};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = read_flux(data) {
        for options in ImportOptions::ALL {
            let weights = model.to_weights(options);
            assert!(
                weights.validate().is_ok(),
                "an accepted model gave invalid weights"
            );
        }
    }
    let _ = ModelFile::read(data);
});
