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
        let mut aux = self.aux();
        while aux.len() >= 3 {
            let (name, ty) = ([aux[0], aux[1]], aux[2]);
            let value = &aux[3..];
            let len = match ty {
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
            if name == tag && ty == b'Z' {
                return Some(&value[..len - 1]);
            }
            aux = value.get(len..)?;
        }
        None
    }
    /// Reference bases the CIGAR covers (M, D, N, = and X).
    pub(crate) fn ref_len(&self) -> i64 {
        self.cigar().filter(|&(_, op)| matches!(op, 0 | 2 | 3 | 7 | 8)).map(|(l, _)| l as i64).sum()
    }
}
