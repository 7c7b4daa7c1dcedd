//! Files in and out: opening inputs (plain, gzip or a pipe, [`input`]), reference FASTA
//! ([`fasta`]), reads as FASTQ ([`fastq`]), and how an output name is written ([`output`]). Every reader reports a malformed record as an error
//! naming the file and the record.

pub mod fasta;
pub mod fastq;
pub mod input;
pub mod output;
