//! A key `network!` does not have.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
        epochs: 10,
    }
}

fn main() {}
