//! The layer list starts with relu.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [relu, dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
