//! Encoded BAM records (their length prefix included) read in place, without decoding them:
//! what the sort, duplicate marking and the CRAM index need of the records they pass along.

/// The length of the record starting at `bytes[0]` (prefix included); `None` when `bytes`
/// does not hold a whole record.
pub(crate) fn record_len(bytes: &[u8]) -> Option<usize> {
    let prefix: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let len = 4 + u32::from_le_bytes(prefix) as usize;
    (len >= 4 + 32 && bytes.len() >= len).then_some(len)
}

/// One encoded BAM record (its length prefix included), read in place.
#[derive(Clone, Copy)]
pub(crate) struct BamRecord<'a>(pub(crate) &'a [u8]);

impl<'a> BamRecord<'a> {
    fn i32_at(&self, at: usize) -> i32 {
        i32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }
    fn u16_at(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }
    pub(crate) fn ref_id(&self) -> i32 {
        self.i32_at(4)
    }
    pub(crate) fn pos(&self) -> i64 {
        self.i32_at(8) as i64
    }
    pub(crate) fn name_len(&self) -> usize {
        self.0[12] as usize
    }
    pub(crate) fn n_cigar(&self) -> usize {
        self.u16_at(16) as usize
    }
    pub(crate) fn flags(&self) -> u16 {
        self.u16_at(18)
    }
    pub(crate) fn l_seq(&self) -> usize {
        self.i32_at(20) as u32 as usize
    }
    pub(crate) fn mate_ref_id(&self) -> i32 {
        self.i32_at(24)
    }
    pub(crate) fn mate_pos(&self) -> i64 {
        self.i32_at(28) as i64
    }
    pub(crate) fn name(&self) -> &'a [u8] {
        &self.0[36..36 + self.name_len().saturating_sub(1)]
    }
    pub(crate) fn cigar(&self) -> impl DoubleEndedIterator<Item = (u32, u8)> + Clone + 'a {
        let at = 36 + self.name_len();
        self.0[at..at + 4 * self.n_cigar()].chunks_exact(4).map(|c| {
            let v = u32::from_le_bytes(c.try_into().expect("4 bytes"));
            (v >> 4, (v & 0xf) as u8)
        })
    }
    pub(crate) fn mapq(&self) -> u8 {
        self.0[13]
    }
    pub(crate) fn tlen(&self) -> i32 {
        self.i32_at(32)
    }
    /// SEQ, two bases a byte (BAM's 4-bit codes).
    pub(crate) fn seq_packed(&self) -> &'a [u8] {
        let at = 36 + self.name_len() + 4 * self.n_cigar();
        &self.0[at..at + self.l_seq().div_ceil(2)]
    }
    pub(crate) fn qual(&self) -> &'a [u8] {
        let at = 36 + self.name_len() + 4 * self.n_cigar() + self.l_seq().div_ceil(2);
        &self.0[at..at + self.l_seq()]
    }
    pub(crate) fn aux(&self) -> &'a [u8] {
        let at = 36 + self.name_len() + 4 * self.n_cigar() + self.l_seq().div_ceil(2) + self.l_seq();
        &self.0[at..]
    }
    /// The value bytes of tag `tag` of type `Z` (without the NUL).
    pub(crate) fn string_tag(&self, tag: [u8; 2]) -> Option<&'a [u8]> {
        for field in self.aux_fields() {
            let (head, value) = field?;
            if head == [tag[0], tag[1], b'Z'] {
                return Some(&value[..value.len() - 1]);
            }
        }
        None
    }
    /// Each tag as its three leading bytes (name and type) and its value as BAM stores it (a
    /// `Z` string with its NUL, a `B` array with its type and count); `None` for a malformed
    /// tag, which ends the fields.
    pub(crate) fn aux_fields(&self) -> impl Iterator<Item = Option<(&'a [u8], &'a [u8])>> + 'a {
        let mut aux = self.aux();
        std::iter::from_fn(move || {
            if aux.is_empty() {
                return None;
            }
            let field = Self::field_len(aux).map(|len| (&aux[..3], &aux[3..3 + len]));
            aux = match field {
                Some((_, value)) => &aux[3 + value.len()..],
                None => &[],
            };
            Some(field)
        })
    }
    /// The length of the value of the tag at the start of `aux`.
    fn field_len(aux: &[u8]) -> Option<usize> {
        let value = aux.get(3..)?;
        let len = match aux[2] {
            b'A' | b'c' | b'C' => 1,
            b's' | b'S' => 2,
            b'i' | b'I' | b'f' => 4,
            b'Z' | b'H' => value.iter().position(|&b| b == 0)? + 1,
            b'B' => {
                let size = match *value.first()? {
                    b'c' | b'C' => 1,
                    b's' | b'S' => 2,
                    _ => 4,
                };
                let count = u32::from_le_bytes(value.get(1..5)?.try_into().ok()?) as usize;
                5 + size * count
            }
            _ => return None,
        };
        (value.len() >= len).then_some(len)
    }
    /// Reference bases the CIGAR covers (M, D, N, = and X).
    pub(crate) fn ref_len(&self) -> i64 {
        self.cigar().filter(|&(_, op)| matches!(op, 0 | 2 | 3 | 7 | 8)).map(|(l, _)| l as i64).sum()
    }
}

/// A BAM record (length prefix included) with zeroed bases (`=`) and template length 0, for
/// tests.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn test_record(
    name: &str,
    flags: u16,
    (ref_id, pos): (i32, i64),
    cigar: &[(u32, u8)],
    (mate_ref, mate_pos): (i32, i64),
    qual: &[u8],
    aux: &[u8],
) -> Vec<u8> {
    let mut b = vec![0u8; 4];
    b.extend_from_slice(&ref_id.to_le_bytes());
    b.extend_from_slice(&(pos as i32).to_le_bytes());
    b.push(name.len() as u8 + 1);
    b.push(60);
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(cigar.len() as u16).to_le_bytes());
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&(qual.len() as u32).to_le_bytes());
    b.extend_from_slice(&mate_ref.to_le_bytes());
    b.extend_from_slice(&(mate_pos as i32).to_le_bytes());
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(name.as_bytes());
    b.push(0);
    for &(len, op) in cigar {
        b.extend_from_slice(&(len << 4 | op as u32).to_le_bytes());
    }
    b.extend(std::iter::repeat_n(0u8, qual.len().div_ceil(2)));
    b.extend_from_slice(qual);
    b.extend_from_slice(aux);
    let len = (b.len() - 4) as u32;
    b[..4].copy_from_slice(&len.to_le_bytes());
    b
}
