//! A repeated block missing its relu: each repetition would repeat the error; it is reported once.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [repeat(4) { dense(32) }, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
