//! A block repeated zero times.

zkdl::network! {
    pub Net {
        input: 64,
        layers: [dense(32), relu, repeat(0) { dense(32), relu }, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

fn main() {}
