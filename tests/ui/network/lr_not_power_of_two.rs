//! A decimal learning rate.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 0.01),
        batch: 32,
    }
}

fn main() {}
