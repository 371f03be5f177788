//! Syntax mistakes and a validation mistake, every one reported in one compilation.

zkdl::network! {
    pub Net {
        input: 0,
        layers: [dense(32), relu, dense(10)],
        optimiser: sgd(lr = 2^-4),
        batch: 64,
        loss: cross_entropy,
    }
}

fn main() {}
