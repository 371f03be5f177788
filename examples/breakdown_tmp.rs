use ark_serialize::CanonicalSerialize;
use zkdl_runtime::proof::file::ProofFile;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let (f, _plan) = ProofFile::read(std::path::Path::new(&path)).unwrap();
    let b = &f.body;
    let (mut merge, mut msgs, mut sc, mut nmsg, mut rounds) = (0, 0, 0, 0, 0);
    for r in &b.relations {
        merge += r.merge.compressed_size();
        msgs += r.messages.compressed_size();
        nmsg += r.messages.len();
        sc += r.sumcheck.compressed_size();
        if let Some(s) = &r.sumcheck { rounds += s.rounds.len(); }
    }
    let openings: usize = b.openings.iter().map(|o| o.opening.compressed_size()).sum();
    let omerge: usize = b.openings.iter().map(|o| o.merge.compressed_size()).sum();
    println!("public {} bitcommit {} merge {} messages {} ({} values) sumchecks {} ({} rounds) openings {} opening-merges {} bit_opening {}",
        f.public.compressed_size(), b.bit_commitment.compressed_size(), merge, msgs, nmsg, sc, rounds, openings, omerge, b.bit_opening.compressed_size());
}
