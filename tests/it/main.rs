//! The integration tests, in one binary (one build, one link, one index of the bundled
//! reference): one module per subject, and [`support`] with what they share, above all the
//! backends every test runs under (`support::backends` on the command line,
//! `support::engines` in the library). [`sam_check`] checks SAM output without swmap's code.

mod sam_check;
mod support;

mod align_backends;
mod alt_contigs;
mod ambiguous_bases;
mod bad_input;
mod bench_cli;
mod bwa_options;
mod chaining;
mod chimeric_library;
mod cram_output;
mod eval_input;
mod gpu_backend;
mod input_catalogue;
mod library;
mod map_invariants;
mod markdup;
mod mate_rescue;
mod mutation;
mod output_safety;
mod pair_orientation;
mod repeat_arrays;
mod sam_output;
mod satellite_mapq;
mod secondary_xa;
mod shaders;
mod simulate_eval;
mod sorted_output;
mod split_engines;
mod split_reads;
mod tags_exact;
mod tandem_repeat;
mod workflow;
