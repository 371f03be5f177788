//! A width that does not fit in a u32.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(5000000000), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
