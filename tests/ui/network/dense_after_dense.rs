//! Two dense layers with no relu between them.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
