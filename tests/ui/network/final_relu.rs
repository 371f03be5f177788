//! A relu after the output layer.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10), relu],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
