//! A layer name in the wrong case.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), ReLU, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
