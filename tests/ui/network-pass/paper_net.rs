//! The network of the zkDL paper declares and carries its spec.

use zkdl::Network;

zkdl::network! {
    /// The network of the zkDL paper: 3072 inputs, 8 hidden layers of 1024 with ReLU, 10 outputs.
    pub PaperNet {
        input: 3072,
        layers: [repeat(8) { dense(1024), relu }, dense(10)],
        loss: mse,
        optimizer: sgd(lr = 2^-7),
        batch: 64,
        scale_bits: 16,
        range_bits: 32,
    }
}

fn main() {
    let spec = PaperNet::spec();
    let mut widths = vec![3072];
    widths.extend([1024; 8]);
    widths.push(10);
    assert_eq!(spec.widths(), widths);
    assert_eq!(spec.depth(), 9);
    assert_eq!(spec.layers.len(), 17);
    assert_eq!(spec.batch, 64);
    assert_eq!(spec.optimizer.lr_shift(), 7);
    assert_eq!(spec.name, PaperNet::NAME);
    spec.validate().unwrap();
}
