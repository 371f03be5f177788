//! A learning rate that is a power of three.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 3^-2),
        batch: 32,
    }
}

fn main() {}
