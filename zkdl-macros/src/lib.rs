//! Procedural macros of zkdl: `network!`, the declaration of a network in Rust source.
//!
//! The entry point is thin, after serde_derive: [`model`] parses the invocation into what the user
//! wrote, with spans; [`validate`] turns it into a `zkdl_compiler::NetworkSpec` and checks it with the
//! compiler's own `NetworkSpec::validate`, collecting every error at the tokens it is about; [`expand`]
//! generates the code. Errors become `compile_error!`s, all of them at once.

mod expand;
mod model;
mod validate;

/// Declares a network and its training hyper-parameters, checked at compile time.
///
/// ```ignore
/// zkdl::network! {
///     /// The network of the zkDL paper: 3072 inputs, 8 hidden layers of 1024 with ReLU, 10 outputs.
///     pub PaperNet {
///         input: 3072,
///         layers: [repeat(8) { dense(1024), relu }, dense(10)],
///         loss: mse,                  // optional, the default and only loss
///         optimizer: sgd(lr = 2^-7),  // learning rate 2^-K on the mean gradient (or `lr = 1`)
///         batch: 64,                  // a power of two
///         scale_bits: 16,             // optional, R; default 16
///         range_bits: 32,             // optional, Q; default 32
///     }
/// }
///
/// use zkdl::Network;
/// assert_eq!(PaperNet::spec().widths().len(), 10);
/// ```
///
/// Layers are `dense(N)`, `relu` and `repeat(N) { … }` (nested as deep as wanted); the list alternates
/// dense and relu and ends on a dense layer. The expansion is a unit struct (with the attributes and
/// visibility written, deriving `Clone, Copy, Debug, Default, PartialEq, Eq`), a `NAME` constant, and
/// `impl zkdl::Network` whose `spec()` returns the declared `zkdl::NetworkSpec` with `repeat` unrolled.
/// A network `NetworkSpec::validate` rejects is a compile error at the offending tokens, every mistake
/// at once.
#[proc_macro]
pub fn network(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
