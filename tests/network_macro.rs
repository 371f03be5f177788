//! `network!` at run time: the spec a declaration carries is the one the builder makes, with `repeat`
//! unrolled and the defaults filled in; attributes and visibility reach the generated type.

use zkdl::compiler::spec::{DEFAULT_RANGE_BITS, DEFAULT_SCALE_BITS};
use zkdl::{Layer, Network, NetworkSpec};

zkdl::network! {
    /// The network of the zkDL paper: 3072 inputs, 8 hidden layers of 1024 with ReLU, 10 outputs.
    pub PaperNet {
        input: 3072,
        layers: [repeat(8) { dense(1024), relu }, dense(10)],
        loss: mse,
        optimizer: sgd(lr = 2^-7),
        batch: 64,
    }
}

mod private {
    zkdl::network! {
        /// Visible to the parent module only.
        #[allow(dead_code)]
        pub(super) Digits { input: 64, layers: [dense(32), relu, dense(32), relu, dense(10)], optimizer: sgd(lr = 2^-4), batch: 32, scale_bits: 12, range_bits: 28 }
    }
}

zkdl::network! {
    Nested {
        input: 16,
        layers: [repeat(2) { repeat(3) { dense(8), relu }, dense(4), relu }, dense(2)],
        optimizer: sgd(lr = 1),
        batch: 1,
    }
}

zkdl::network! {
    /// A hidden layer without a bias, as nn.Linear(…, bias=False); the others keep theirs.
    Unbiased {
        input: 8,
        layers: [dense(4, bias = false), relu, dense(2, bias = true), relu, dense(3)],
        optimizer: sgd(lr = 2^-2),
        batch: 4,
    }
}

#[test]
fn a_dense_layer_has_a_bias_unless_declared_without() {
    let spec = Unbiased::spec();
    assert_eq!(spec.biases(), [false, true, true]);
    assert_eq!(spec.parameter_count(), 8 * 4 + (4 + 1) * 2 + (2 + 1) * 3);
    let built = NetworkSpec::builder("Unbiased")
        .input(8)
        .dense_no_bias(4)
        .relu()
        .dense(2)
        .relu()
        .dense(3)
        .sgd(2)
        .batch(4)
        .build()
        .unwrap();
    assert_eq!(spec, built);
    assert!(built.to_toml().contains("{ dense = 4, bias = false }"), "{}", built.to_toml());
    assert_eq!(NetworkSpec::from_toml(&built.to_toml()).unwrap(), built);
}

#[test]
fn paper_net_spec() {
    let spec = PaperNet::spec();
    let mut widths = vec![3072];
    widths.extend([1024; 8]);
    widths.push(10);
    assert_eq!(spec.widths(), widths);
    assert_eq!(spec.depth(), 9);
    assert_eq!(spec.batch, 64);
    assert_eq!(spec.optimizer.lr_shift(), 7);
    assert_eq!(spec.fixed_point.scale_bits, DEFAULT_SCALE_BITS);
    assert_eq!(spec.fixed_point.range_bits, DEFAULT_RANGE_BITS);
    assert_eq!((DEFAULT_SCALE_BITS, DEFAULT_RANGE_BITS), (16, 32));
    assert_eq!(spec.name, "PaperNet");
    assert_eq!(PaperNet::NAME, "PaperNet");
}

#[test]
fn macro_spec_equals_builder_spec() {
    let built = NetworkSpec::builder("PaperNet")
        .input(3072)
        .repeat(8, &[Layer::dense(1024), Layer::Relu])
        .dense(10)
        .sgd(7)
        .batch(64)
        .build()
        .unwrap();
    assert_eq!(PaperNet::spec(), built);

    let built = NetworkSpec::builder("Digits")
        .input(64)
        .dense(32)
        .relu()
        .dense(32)
        .relu()
        .dense(10)
        .sgd(4)
        .batch(32)
        .scale_bits(12)
        .range_bits(28)
        .build()
        .unwrap();
    assert_eq!(private::Digits::spec(), built);
}

#[test]
fn nested_repeat_unrolls_in_order() {
    let block: Vec<Layer> = [[Layer::dense(8), Layer::Relu].repeat(3), vec![Layer::dense(4), Layer::Relu]].concat();
    let built = NetworkSpec::builder("Nested").input(16).repeat(2, &block).dense(2).sgd(0).batch(1).build().unwrap();
    assert_eq!(Nested::spec(), built);
    assert_eq!(Nested::spec().widths(), vec![16, 8, 8, 8, 4, 8, 8, 8, 4, 2]);
}

#[test]
fn generated_type_is_a_plain_unit_struct() {
    fn traits<T: Clone + Copy + std::fmt::Debug + Default + PartialEq + Eq + Network>() {}
    traits::<PaperNet>();
    traits::<private::Digits>();
    assert_eq!(format!("{:?}", PaperNet), "PaperNet");
    assert_eq!(<PaperNet as Default>::default(), PaperNet);
}
