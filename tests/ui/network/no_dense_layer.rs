//! An empty layer list.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
