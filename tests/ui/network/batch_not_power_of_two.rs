//! A batch of 48.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 48,
    }
}

fn main() {}
