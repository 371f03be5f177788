//! No batch.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
    }
}

fn main() {}
