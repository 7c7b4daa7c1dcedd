//! The mapper's records and header as noodles values, for pipelines that embed swmap and want
//! records in memory rather than a file: [`HeaderInfo::to_header`] and
//! [`SamRecord::to_record_buf`] give exactly what [`crate::sam::SamWriter`] writes.

use super::header::build_header;
use super::writer::fill;
use super::{HeaderInfo, SamRecord};
use crate::error::{Error, Result};
use crate::index::Index;
use noodles_sam::alignment::record_buf::data::field::Value;
use noodles_sam::alignment::RecordBuf;
use noodles_sam::Header;

impl HeaderInfo {
    /// The header of a run against `index`: an `@SQ` per contig, the `-R` line if any
    /// (validated when the header is built), and `@PG` with `command_line`.
    pub fn for_index(index: &Index, read_group: Option<String>, command_line: impl Into<String>) -> HeaderInfo {
        HeaderInfo {
            contigs: index.contigs.iter().map(|c| (c.name.clone(), c.len)).collect(),
            read_group,
            command_line: command_line.into(),
            header_lines: Vec::new(),
            reference: None,
        }
    }

    /// The noodles header: `@HD`, `@SQ`s, `@RG`, `@PG`, as the writer writes it.
    pub fn to_header(&self) -> Result<Header> {
        build_header(self).map(|(header, _)| header)
    }

    /// The read group's ID, which every record carries as `RG:Z` (`None` without `-R`).
    pub fn read_group_id(&self) -> Result<Option<String>> {
        build_header(self).map(|(_, rg)| rg.map(|rg| rg.id))
    }
}

impl SamRecord {
    /// This record as a noodles record, with `RG:Z:read_group_id` when given: the record the
    /// writer would write. An error says why SAM cannot hold it (a position out of range).
    pub fn to_record_buf(&self, read_group_id: Option<&str>) -> Result<RecordBuf> {
        let mut buf = RecordBuf::default();
        let rg = read_group_id.map(Value::from);
        fill(&mut buf, self, rg.as_ref())
            .map_err(|message| Error::input("<record>", String::from_utf8_lossy(&self.name).into_owned(), message))?;
        Ok(buf)
    }
}
