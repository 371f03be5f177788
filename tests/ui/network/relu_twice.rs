//! Two relu in a row.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
