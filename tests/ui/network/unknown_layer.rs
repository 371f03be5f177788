//! A layer zkdl does not have.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [conv(3), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
