//! A small digits network, private and without the optional keys, takes the defaults.

use zkdl::Network;

zkdl::network! {
    Digits {
        input: 64,
        layers: [dense(32), relu, dense(32), relu, dense(10)],
        optimizer: sgd(lr = 2^-4),
        batch: 32
    }
}

fn main() {
    let spec = Digits::spec();
    assert_eq!(spec.widths(), vec![64, 32, 32, 10]);
    assert_eq!(spec.depth(), 3);
    assert_eq!(spec.parameter_count(), 65 * 32 + 33 * 32 + 33 * 10, "weights and biases");
    assert_eq!(spec.biases(), [true, true, true]);
    assert_eq!(spec.batch, 32);
    assert_eq!(spec.optimizer.lr_shift(), 4);
    assert_eq!(spec.fixed_point, zkdl::compiler::FixedPoint::default());
    assert_eq!(spec.loss, zkdl::Loss::Mse);
    assert_eq!(Digits, Digits::default());
}
