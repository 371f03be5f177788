//! Several mistakes, every one reported in one compilation.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [relu, dense(0), relu, relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 48,
        scale_bits: 0,
    }
}

fn main() {}
