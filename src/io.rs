//! Files in and out: opening inputs (plain, gzip or a pipe, `input`), reference FASTA
//! (`fasta`), reads (`read`) from FASTQ or FASTA files (`fastq`) or memory, single or paired
//! (`read_source`), and how an output name is written (`output`). Every reader reports a
//! malformed record as an error naming the file and the record.

pub mod fasta;
pub mod fastq;
pub mod input;
pub mod output;
pub mod read;
pub mod read_source;
