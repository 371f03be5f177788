//! `dense` takes its width and `bias = false` only.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(16, biass = false), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
