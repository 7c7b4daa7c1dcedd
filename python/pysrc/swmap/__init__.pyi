from os import PathLike
from typing import Iterable, Iterator, Optional, Union

__version__: str

_Path = Union[str, "PathLike[str]"]
# A read: its bases, or (name, bases) or (name, bases, Phred+33 qualities), as
# mappy.fastx_read and pysam give them.
_Read = Union[str, tuple[str, str], tuple[str, str, Optional[str]]]

class FastxReader(Iterator[tuple[str, str, Optional[str]]]):
    def __iter__(self) -> FastxReader: ...
    def __next__(self) -> tuple[str, str, Optional[str]]: ...

def fastx_read(path: _Path) -> FastxReader:
    """(name, seq, qual) of every record of a FASTQ or FASTA file (plain or gzip), read as
    `swmap map` reads them: names without /1 or /2, bases upper case (IUPAC codes as N),
    qual None for FASTA. A bad record raises ValueError naming the file and record."""

class Index:
    """A reference index, as `swmap index` writes it."""

    @staticmethod
    def build(fasta: _Path, path: Optional[_Path] = None, *, k: Optional[int] = None, w: Optional[int] = None) -> Index:
        """Indexes a FASTA (plain or gzip); writes the index to `path` when given."""
    @staticmethod
    def load(path: _Path) -> Index:
        """Loads an index written by `swmap index` or `Index.build`."""
    @property
    def contigs(self) -> list[tuple[str, int]]:
        """(name, length) of every contig, in index order."""
    @property
    def path(self) -> str: ...

class Hit:
    """One alignment of a read: a view of the SAM record `swmap map` writes for it."""

    @property
    def ctg(self) -> str: ...
    @property
    def ctg_len(self) -> int: ...
    @property
    def r_st(self) -> int:
        """Start on the contig, 0-based."""
    @property
    def r_en(self) -> int:
        """End on the contig, exclusive."""
    @property
    def q_st(self) -> int:
        """Start on the read as given, 0-based (forward-strand coordinates for either strand)."""
    @property
    def q_en(self) -> int: ...
    @property
    def strand(self) -> int:
        """+1 or -1."""
    @property
    def mapq(self) -> int: ...
    @property
    def cigar_str(self) -> str:
        """The CIGAR without clips, as mappy gives it."""
    @property
    def cigar(self) -> list[tuple[int, int]]:
        """(length, op) without clips; op 0 M, 1 I, 2 D."""
    @property
    def sam_cigar(self) -> str:
        """The SAM record's CIGAR, clips included."""
    @property
    def NM(self) -> int: ...
    @property
    def mlen(self) -> int:
        """Matching bases."""
    @property
    def blen(self) -> int:
        """Alignment length, gaps included."""
    @property
    def is_primary(self) -> bool:
        """Not secondary: the primary record or a supplementary part (as mappy counts them)."""
    @property
    def is_supplementary(self) -> bool: ...
    @property
    def is_secondary(self) -> bool: ...
    @property
    def is_proper_pair(self) -> bool: ...
    @property
    def flag(self) -> int: ...
    @property
    def AS(self) -> Optional[int]: ...
    @property
    def XS(self) -> Optional[int]: ...
    @property
    def MD(self) -> Optional[str]: ...
    @property
    def SA(self) -> Optional[str]: ...
    @property
    def XA(self) -> Optional[str]: ...
    @property
    def sam(self) -> str:
        """The SAM line `swmap map` writes for this alignment."""

class Aligner:
    """Maps reads against one index on one backend with fixed options.

    `options` are `swmap map`'s by the names `swmap map --help` shows, '-' as '_':
    min_score (-T), match_score (-A), mismatch (-B), gap_open (-O), gap_extend (-E),
    clip (-L), all_alignments (-a), soft_clip_supplementary (-Y), max_occ, max_candidates,
    insert_size, read_group (-R), alt, max_xa_hits (-h), ... A flag is True to set it.
    """

    def __init__(
        self,
        index: Union[Index, _Path],
        *,
        threads: Optional[int] = None,
        backend: str = "auto",
        **options: object,
    ) -> None: ...
    def map(self, seq: str, qual: Optional[str] = None, name: Optional[str] = None) -> list[Hit]:
        """The hits of one read: primary, supplementary parts, then secondary ones."""
    def map_pair(self, read1: _Read, read2: _Read) -> tuple[list[Hit], list[Hit]]:
        """The hits of both mates of one pair."""
    def map_batch(
        self, reads: Iterable[_Read], mates: Optional[Iterable[_Read]] = None
    ) -> list:
        """Many reads (or pairs, with `mates`) on all the aligner's threads, without the GIL:
        a list of each read's hits, or of (hits1, hits2) per pair."""
    def map_files(
        self,
        reads: _Path,
        mates: Optional[_Path] = None,
        *,
        out: Optional[_Path] = None,
        sort: bool = False,
        **options: object,
    ) -> dict[str, object]:
        """Maps whole files as `swmap map` does, streaming; returns the run's counts."""
    @property
    def backend(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def header(self) -> str: ...
    @property
    def seq_names(self) -> list[str]: ...
    def seq(self, name: str, start: int = 0, end: Optional[int] = None) -> Optional[str]:
        """Reference bases of a contig, 0-based and end-exclusive (N where the FASTA had
        other than ACGT); None for an unknown contig."""
