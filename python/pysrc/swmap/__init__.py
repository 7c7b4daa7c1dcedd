"""swmap from Python: map short reads to a reference in memory, as mappy maps them with minimap2.

    import swmap
    aligner = swmap.Aligner("ref.fa", threads=4, min_score=30)
    for hit in aligner.map("ACGT..."):
        print(hit.ctg, hit.r_st, hit.strand, hit.cigar_str, hit.mapq)

The hits are the records ``swmap map`` writes for the same reads, byte for byte.
"""

from swmap._swmap import Aligner, FastxReader, Hit, Index, __version__, fastx_read

__all__ = ["Aligner", "FastxReader", "Hit", "Index", "__version__", "fastx_read"]
