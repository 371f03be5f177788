//! A dense layer of width zero.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(0), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
