//! The networks zkdl ships, declared with [`network!`](crate::network).

crate::network! {
    /// The default network for the embedded UCI digits data: 64 pixels → 32 → 32 → 10 classes.
    pub Digits {
        input: 64,
        layers: [repeat(2) { dense(32), relu }, dense(10)],
        loss: mse,
        optimizer: sgd(lr = 2^-4),
        batch: 32,
    }
}

crate::network! {
    /// The network of the zkDL paper (Sun et al., 2023): 3072 inputs, 8 hidden layers of 1024 with ReLU,
    /// 10 outputs, batch 64.
    pub Paper {
        input: 3072,
        layers: [repeat(8) { dense(1024), relu }, dense(10)],
        loss: mse,
        optimizer: sgd(lr = 2^-7),
        batch: 64,
    }
}
