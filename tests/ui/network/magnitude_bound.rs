//! range_bits so large that a relation could wrap around the field.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
        range_bits: 120,
    }
}

fn main() {}
