//! N and the other IUPAC ambiguity codes, in reads and in the reference: they never seed, score
//! as an ambiguous pair (-1), count as mismatches in NM and are written as N in MD; nothing
//! crashes and every read is reported. Under every backend.

use crate::sam_check::*;
use crate::support::*;
use std::collections::HashMap;

#[test]
fn ambiguous_bases_in_reads_and_reference_are_consistent() {
    let dir = scratch("ambiguous");
    let ecoli = load_fasta(&data("ref.fa.gz"))["ecoli_k12_1_150000"][..20_000].to_vec();
    // The reference: an R and a lower-case y at known places, and a run of 100 Ns.
    let mut text = ecoli.clone();
    text[5000] = b'R';
    text[7000] = b'y';
    text.splice(10_000..10_100, std::iter::repeat_n(b'N', 100));
    let fasta = format!(">amb\n{}\n", String::from_utf8_lossy(&text));
    std::fs::write(dir.join("ref.fa"), fasta).unwrap();
    // What swmap holds after reading it: upper case, every ambiguity code as N.
    let normalised: Vec<u8> =
        text.iter().map(|b| b.to_ascii_uppercase()).map(|b| if b"ACGT".contains(&b) { b } else { b'N' }).collect();

    let mut with_ns = ecoli[2000..2150].to_vec();
    for i in [10, 70, 71, 130] {
        with_ns[i] = b'N';
    }
    let reads = [
        ("ns_in_read", with_ns),
        ("over_r", ecoli[4950..5100].to_vec()),
        ("over_y", reverse_complement(&ecoli[6950..7100])),
        ("into_n_run", ecoli[9900..10_050].to_vec()),
        ("all_n", vec![b'N'; 150]),
        ("lower_case_iupac", b"acgtrykmswbdhvn".repeat(10)),
    ];
    let fq: String = reads.iter().map(|(n, s)| fastq_record(n, s)).collect();
    std::fs::write(dir.join("reads.fq"), fq).unwrap();

    let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
    for b in backends() {
        let sam = ok(swmap().current_dir(&dir).args(["map", "ref.fa", "reads.fq", "--backend", b]));
        let recs = lines(&sam);
        assert_eq!(recs.iter().filter(|l| l.primary()).count(), reads.len(), "{b}: every read reported once");
        let by_name: HashMap<&str, &Line> = recs.iter().map(|l| (l.name.as_str(), l)).collect();
        for (name, start) in [("ns_in_read", 2000), ("over_r", 4950), ("over_y", 6950)] {
            let r = by_name[name];
            assert!(r.mapped() && r.pos == start + 1, "{b} {name}: placed at {} {}", r.pos, r.cigar);
        }
        // Four Ns in the read: four mismatches in NM, and AS = 146 - 4 (ambiguous pairs score -1).
        assert_eq!(by_name["ns_in_read"].tag("NM"), Some("4"), "{b}");
        assert_eq!(by_name["ns_in_read"].tag("AS"), Some("142"), "{b}");
        assert!(by_name["over_r"].tag("MD").unwrap().contains('N'), "{b}: MD writes the reference's R as N");
        assert!(!by_name["all_n"].mapped(), "{b}: an all-N read has no seed and stays unmapped");
        check_records(&sam, &HashMap::from([("amb".to_string(), normalised.clone())]));
        outputs.push((b, body(&sam)));
    }
    for (b, o) in &outputs[1..] {
        assert_same("ambiguous bases", (outputs[0].0, &outputs[0].1), (b, o));
    }
}
